/**
 * Requests per second of one cached route: Strata (memory store, served from cache) against
 * bare node:http answering a constant body, against the same route cached with BentoCache, and
 * against the route made private (10 users, one entry each per URL).
 * Each server runs in its own process; autocannon drives it over loopback.
 */
import autocannon from 'autocannon';
import { startFixture } from './lib/child.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const MODES = [
  ['bare node:http', 'bare'],
  ['strata (memory store, hits)', 'strata'],
  ['bentocache (memory)', 'bentocache'],
  ['strata (memory store, private hits)', 'strata-private'],
] as const;

const requests = Array.from({ length: 100 }, (_, i) => ({ method: 'GET' as const, path: `/api/items/${i}` }));
// The private route: the same 100 URLs, each asked by one of 10 users (a bearer token each).
const privateRequests = requests.map((request, i) => ({
  ...request,
  headers: { authorization: `Bearer user-${i % 10}` },
}));

async function load(
  port: number,
  seconds: number,
  mode: string,
): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 100,
    duration: seconds,
    requests: mode === 'strata-private' ? privateRequests : requests,
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const bench: BenchModule = {
  name: 'server-throughput',
  aim: 'a cached route (memory store) serves ≥ 0.85× the requests/s of bare node:http and ≥ 1.2× the same route on BentoCache',
  async run({ quick, log }): Promise<BenchResult> {
    const seconds = quick ? 3 : 10;
    const rounds = quick ? 1 : 2;
    const best = new Map<string, { rps: number; p99: number }>();
    for (let round = 1; round <= rounds; round++) {
      for (const [label, mode] of MODES) {
        const server = await startFixture('bench/fixtures/throughput-server.ts', [mode]);
        try {
          await load(server.port, 1, mode); // warm-up: fills the caches, lets the JIT settle
          log(`  round ${round}/${rounds} ${label}: warmed up, measuring ${seconds} s`);
          const measured = await load(server.port, seconds, mode);
          if (measured.errors > 0) throw new Error(`${label}: ${measured.errors} failed requests`);
          log(
            `  round ${round}/${rounds} ${label}: ${Math.round(measured.rps).toLocaleString('en-US')} req/s, p99 ${measured.p99} ms`,
          );
          const previous = best.get(label);
          if (!previous || measured.rps > previous.rps) best.set(label, measured);
        } finally {
          await server.stop();
        }
      }
    }
    const rps = (label: string) => best.get(label)?.rps ?? 0;
    const rows: Row[] = [
      { label: 'bare node:http', opsPerSec: rps('bare node:http') },
      {
        label: 'strata (memory store, hits)',
        opsPerSec: rps('strata (memory store, hits)'),
        baseline: 'bare node:http',
      },
      { label: 'bentocache (memory)', opsPerSec: rps('bentocache (memory)'), baseline: 'bare node:http' },
      {
        label: 'strata (memory store, private hits)',
        opsPerSec: rps('strata (memory store, private hits)'),
        baseline: 'bare node:http',
      },
    ];
    const vsBare = rps('strata (memory store, hits)') / rps('bare node:http');
    const vsBento = rps('strata (memory store, hits)') / rps('bentocache (memory)');
    return {
      rows,
      chart: {
        title: `One cached route, requests/s at 100 connections (higher is better)`,
        unit: 'requests/s',
        groups: [
          {
            label: '100 URLs in rotation',
            bars: MODES.map(([label]) => ({
              series: label === 'bare node:http' ? 'bare node:http (baseline, no cache)' : label,
              value: rps(label),
            })),
          },
        ],
      },
      notes: [
        `100 connections, ${seconds} s per run after a 1 s warm-up, 100 URLs in rotation, best of ${rounds} round(s); ops/s = requests/s.`,
        ...MODES.map(([label]) => `p99 ${label}: ${best.get(label)?.p99 ?? '?'} ms`),
        `Strata vs BentoCache: ${formatRatio(vsBento)}.`,
      ],
      aims: [
        { aim: 'Strata ≥ 0.85× bare node:http', met: vsBare >= 0.85, measured: formatRatio(vsBare) },
        { aim: 'Strata ≥ 1.2× BentoCache', met: vsBento >= 1.2, measured: formatRatio(vsBento) },
      ],
    };
  },
};

export default bench;
