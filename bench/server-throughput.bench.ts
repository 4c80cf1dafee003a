/**
 * Requests per second of one cached route: Strata served from cache — memory store, a private
 * route on the memory store (one entry per user), Redis with the in-process L1, Redis without
 * it — against bare node:http answering a constant body, and against the same route cached with
 * BentoCache. Each server runs in its own process, Redis in its own (started here); autocannon
 * drives each server over loopback.
 */
import autocannon from 'autocannon';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { startFixture } from './lib/child.js';
import { median } from './lib/latency.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const BARE = 'bare node:http';
const MEMORY = 'strata (memory store, hits)';
const PRIVATE = 'strata (memory store, private hits)';
const REDIS = 'strata (redis store, hits)';
const REDIS_NO_L1 = 'strata (redis store, l1: false, hits)';
const BENTO = 'bentocache (memory)';

const MODES = [
  [BARE, 'bare'],
  [MEMORY, 'strata'],
  [PRIVATE, 'strata-private'],
  [REDIS, 'strata-redis'],
  [REDIS_NO_L1, 'strata-redis-no-l1'],
  [BENTO, 'bentocache'],
] as const;

type Request = { method: 'GET'; path: string; headers?: Record<string, string> };
const publicRequests: Request[] = Array.from({ length: 100 }, (_, i) => ({ method: 'GET', path: `/api/items/${i}` }));
// Ten users, ten items each: 100 private entries in rotation.
const privateRequests: Request[] = Array.from({ length: 100 }, (_, i) => ({
  method: 'GET',
  path: `/api/me/items/${i % 10}`,
  headers: { authorization: `Bearer user-${Math.floor(i / 10)}` },
}));

async function load(
  port: number,
  seconds: number,
  requests: Request[],
): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 100,
    duration: seconds,
    requests,
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

const bench: BenchModule = {
  name: 'server-throughput',
  aim: 'a cached route serves ≥ 0.85× the requests/s of bare node:http (memory store) and ≥ 1.2× the same route on BentoCache; ≥ 0.8× bare node:http on Redis with the L1',
  async run({ quick, log }): Promise<BenchResult> {
    const seconds = quick ? 3 : 10;
    const rounds = quick ? 1 : 3;
    // Every round measures each server once, in turn.
    const runs = new Map<string, { rps: number; p99: number }[]>(MODES.map(([label]) => [label, []]));
    const redis = await startRedisServer();
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const [label, mode] of MODES) {
          const server = await startFixture('bench/fixtures/throughput-server.ts', [mode, redis.url]);
          const requests = mode === 'strata-private' ? privateRequests : publicRequests;
          try {
            // Every URL once first: autocannon's connections walk the list in step, so a cold cache
            // would meet each URL with a burst of 100 collapsed misses, for as long as that takes.
            for (const { path, headers } of requests) {
              await (await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: headers ?? {} })).arrayBuffer();
            }
            await load(server.port, 1, requests); // warm-up: lets the JIT settle
            log(`  round ${round}/${rounds} ${label}: warmed up, measuring ${seconds} s`);
            const measured = await load(server.port, seconds, requests);
            if (measured.errors > 0) throw new Error(`${label}: ${measured.errors} failed requests`);
            log(
              `  round ${round}/${rounds} ${label}: ${Math.round(measured.rps).toLocaleString('en-US')} req/s, p99 ${measured.p99} ms`,
            );
            runs.get(label)?.push(measured);
          } finally {
            await server.stop();
          }
        }
      }
    } finally {
      await redis.stop();
    }
    const of = (label: string) => runs.get(label) ?? [];
    const rps = (label: string) => median(of(label).map((run) => run.rps));
    const rows: Row[] = MODES.map(([label]) =>
      label === BARE ? { label, opsPerSec: rps(label) } : { label, opsPerSec: rps(label), baseline: BARE },
    );
    // Medians, not the best runs: one lucky or slow run of either server does not move the ratio.
    const ratio = (label: string, baseline: string) => rps(label) / rps(baseline);
    return {
      rows,
      chart: {
        title: `One cached route, requests/s at 100 connections (higher is better)`,
        unit: 'requests/s',
        groups: [
          {
            label: '100 URLs in rotation',
            bars: MODES.map(([label]) => ({
              series: label === BARE ? 'bare node:http (baseline, no cache)' : label,
              value: rps(label),
            })),
          },
        ],
      },
      notes: [
        `100 connections, ${seconds} s per run after each URL is requested once and a 1 s warm-up, 100 URLs in rotation, ${rounds} round(s), each measuring every server in turn; ops/s = each server's median over the rounds (not its best run: one lucky or slow run of either server no longer moves a ratio).`,
        `Rounds, requests/s: ${MODES.map(
          ([label]) =>
            `${label} ${of(label)
              .map((run) => Math.round(run.rps).toLocaleString('en-US'))
              .join(' / ')}`,
        ).join('; ')}.`,
        ...MODES.map(([label]) => `p99 ${label}: ${median(of(label).map((run) => run.p99))} ms (median of the rounds)`),
        `Strata vs BentoCache (memory): memory store ${formatRatio(ratio(MEMORY, BENTO))}, private ${formatRatio(ratio(PRIVATE, BENTO))}, Redis with the L1 ${formatRatio(ratio(REDIS, BENTO))}, Redis without it ${formatRatio(ratio(REDIS_NO_L1, BENTO))}.`,
        `The L1's gain on Redis: ${formatRatio(ratio(REDIS, REDIS_NO_L1))} the requests/s of the same Redis deployment with \`l1: false\`.`,
        'The private case: ten users, ten items each; its hits take the fast path too (the partition function gets a request view).',
      ],
      aims: [
        {
          aim: 'Strata (memory store) ≥ 0.85× bare node:http',
          met: ratio(MEMORY, BARE) >= 0.85,
          measured: formatRatio(ratio(MEMORY, BARE)),
        },
        {
          aim: 'Strata (memory store) ≥ 1.2× BentoCache',
          met: ratio(MEMORY, BENTO) >= 1.2,
          measured: formatRatio(ratio(MEMORY, BENTO)),
        },
        {
          aim: 'Strata (redis store, L1) ≥ 0.8× bare node:http',
          met: ratio(REDIS, BARE) >= 0.8,
          measured: formatRatio(ratio(REDIS, BARE)),
        },
      ],
    };
  },
};

export default bench;
