/**
 * What `strata proxy` adds to a request: latency on a hit and on a miss, against the same request
 * sent straight to the origin and through Varnish, all in one run. The origin is plain node:http
 * (no cache headers, a 1 KB JSON body, no work), so every microsecond above the direct request
 * is the proxy's. Each server runs in a process of its own; this process sends one request at a
 * time over a kept-alive loopback connection per target and times it to the last body byte.
 *
 * - hit: 100 URLs, warmed, in rotation (`X-Cache: HIT` for Strata, `X-Cache: HIT` for Varnish);
 * - miss: a URL never asked before, every time (stored by both, as a real miss would be).
 *
 * The cases run in interleaved rounds, so drift on a shared machine falls on all of them alike.
 */
import { Agent } from 'node:http';
import { startVarnish, type VarnishServer } from '../packages/server/test/helpers/varnish.js';
import { type Sample, timedGet } from './fixtures/demo-samplers.js';
import { type Child, startFixture } from './lib/child.js';
import { fmtMs, type Summary, summarize } from './lib/latency.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const HOT_URLS = 100;

/** Varnish caching every GET for 600 s whatever the origin says, as the proxy's manifest does. */
const vcl = (host: string, port: number, nonce: string) => `vcl 4.1;
backend origin { .host = "${host}"; .port = "${port}"; }
sub vcl_recv {
  if (req.url == "/.strata/varnish-ready") { return (synth(200, "Ready")); }
}
sub vcl_backend_response { set beresp.ttl = 600s; }
sub vcl_deliver {
  if (obj.hits > 0) { set resp.http.x-cache = "HIT"; } else { set resp.http.x-cache = "MISS"; }
}
sub vcl_synth {
  if (req.url == "/.strata/varnish-ready") { set resp.http.x-strata-varnish = "${nonce}"; }
}
`;

type Target = 'direct' | 'strata' | 'varnish';
type Kind = 'hit' | 'miss' | 'pass';
interface Case {
  label: string;
  target: Target;
  kind: Kind;
}

const CASES: Case[] = [
  { label: 'direct to the origin (baseline)', target: 'direct', kind: 'hit' },
  { label: 'strata proxy, hit', target: 'strata', kind: 'hit' },
  { label: 'varnish, hit', target: 'varnish', kind: 'hit' },
  { label: 'direct to the origin, new URLs', target: 'direct', kind: 'miss' },
  { label: 'strata proxy, miss', target: 'strata', kind: 'miss' },
  { label: 'varnish, miss', target: 'varnish', kind: 'miss' },
  { label: 'strata proxy, route not in the manifest', target: 'strata', kind: 'pass' },
];

/** What a sample must say for the case it is counted in: a hit counted as a miss would flatter. */
function check(c: Case, sample: Sample): void {
  if (sample.status !== 200) throw new Error(`${c.label}: status ${sample.status}`);
  if (c.target === 'direct') return;
  if (c.kind === 'pass') {
    if (sample.xCache !== null) throw new Error(`${c.label}: X-Cache ${sample.xCache} on a route not in the manifest`);
    return;
  }
  const expected = c.kind === 'hit' ? 'HIT' : 'MISS';
  if (sample.xCache !== expected) throw new Error(`${c.label}: X-Cache ${sample.xCache}, expected ${expected}`);
}

const bench: BenchModule = {
  name: 'proxy',
  aim: 'strata proxy adds at most 1.5× the latency Varnish adds, on a hit and on a miss, measured against the same request sent straight to the origin',
  async run({ quick, log }): Promise<BenchResult> {
    const rounds = quick ? 3 : 10;
    const perRound = quick ? 200 : 500;
    const children: Child[] = [];
    let varnish: VarnishServer | undefined;
    const agents = new Map<Target, Agent>();
    try {
      const origin = await startFixture('bench/fixtures/proxy-server.ts', ['origin']);
      children.push(origin);
      const proxy = await startFixture('bench/fixtures/proxy-server.ts', ['proxy', String(origin.port)]);
      children.push(proxy);
      varnish = await startVarnish({ backendPort: origin.port, vcl });
      const base: Record<Target, string> = {
        direct: `http://127.0.0.1:${origin.port}`,
        strata: `http://127.0.0.1:${proxy.port}`,
        varnish: varnish.url,
      };
      for (const target of Object.keys(base) as Target[])
        agents.set(target, new Agent({ keepAlive: true, maxSockets: 1 }));

      let fresh = 0;
      const url = (c: Case, i: number) =>
        c.kind === 'pass'
          ? `${base[c.target]}/other/${++fresh}`
          : `${base[c.target]}/items/${c.kind === 'hit' ? i % HOT_URLS : `new-${c.target}-${++fresh}`}`;
      // Warm-up: fills both caches with the hot URLs and lets every JIT settle.
      for (const c of CASES)
        for (let i = 0; i < 2 * HOT_URLS; i++) await timedGet(agents.get(c.target) as Agent, url(c, i));

      const samples = new Map<string, number[]>(CASES.map((c) => [c.label, []]));
      for (let round = 1; round <= rounds; round++) {
        for (const c of CASES) {
          const agent = agents.get(c.target) as Agent;
          const into = samples.get(c.label) as number[];
          for (let i = 0; i < perRound; i++) {
            const sample = await timedGet(agent, url(c, i));
            check(c, sample);
            into.push(sample.ms);
          }
        }
        log(`  round ${round}/${rounds}: ${perRound} requests per case`);
      }

      const summary = new Map<string, Summary>(CASES.map((c) => [c.label, summarize(samples.get(c.label) ?? [])]));
      const p50 = (label: string) => summary.get(label)?.p50 ?? Number.NaN;
      const added = (kind: Kind, target: Target) => {
        const of = (k: Kind, t: Target) => CASES.find((c) => c.kind === k && c.target === t)?.label ?? '';
        return p50(of(kind, target)) - p50(of(kind === 'hit' ? 'hit' : 'miss', 'direct'));
      };
      const rows: Row[] = CASES.map((c) => ({
        label: c.label,
        opsPerSec: 1000 / p50(c.label),
        spread: summary.get(c.label)?.spread ?? 0,
        ...(c.target === 'direct'
          ? c.kind === 'miss'
            ? { baseline: 'direct to the origin (baseline)' }
            : {}
          : { baseline: c.kind === 'hit' ? 'direct to the origin (baseline)' : 'direct to the origin, new URLs' }),
      }));
      const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
      const ratio = (kind: Kind) => added(kind, 'strata') / added(kind, 'varnish');
      return {
        rows,
        chart: {
          title: 'Median latency of one request over loopback (lower is better)',
          unit: 'ms',
          groups: (['hit', 'miss'] as const).map((kind) => ({
            label: kind === 'hit' ? 'hit (100 warm URLs)' : 'miss (a new URL each time)',
            bars: CASES.filter((c) => c.kind === kind).map((c) => ({
              series: c.target === 'direct' ? 'direct to the origin (baseline)' : `${c.target}`,
              value: p50(c.label),
            })),
          })),
        },
        notes: [
          `${rounds} interleaved rounds of ${perRound} sequential requests per case, one kept-alive connection per target; ops/s = 1 / median latency.`,
          ...CASES.map((c) => {
            const s = summary.get(c.label);
            return `${c.label}: median ${fmtMs(s?.p50 ?? 0)} ms, p99 ${fmtMs(s?.p99 ?? 0)} ms`;
          }),
          `Added to a direct request, median: strata proxy ${us(added('hit', 'strata'))} on a hit and ${us(added('miss', 'strata'))} on a miss; Varnish ${us(added('hit', 'varnish'))} and ${us(added('miss', 'varnish'))}.`,
          `A hit through either never reaches the origin, so it can beat the direct request: a negative figure is time saved.`,
          `A route the manifest does not name (piped straight through, no cache work): ${us(added('pass', 'strata'))} added. A miss also goes through strata.handle: Request and Response objects and the server cache's miss path (lookup, single flight, store write), as in an app that embeds Strata.`,
        ],
        aims: (['hit', 'miss'] as const).map((kind) => ({
          aim: `added latency on a ${kind}: strata proxy ≤ 1.5× Varnish's (≤ 0 where Varnish's is)`,
          met: added(kind, 'strata') <= Math.max(0, 1.5 * added(kind, 'varnish')),
          measured: `${us(added(kind, 'strata'))} vs ${us(added(kind, 'varnish'))} (${formatRatio(ratio(kind))})`,
        })),
      };
    } finally {
      for (const agent of agents.values()) agent.destroy();
      await varnish?.stop();
      for (const child of children.reverse()) await child.stop();
    }
  },
};

export default bench;
