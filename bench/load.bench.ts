/**
 * Load capacity of the demo (the seed's "Load Capacity" table): autocannon at 100 and 1,000
 * concurrent connections against one instance at a time, on a realistic mix — 80% reads of 1,000
 * user records drawn from a Zipf distribution (s = 1), 20% writes (`PUT`, which purge the record)
 * spread evenly over them — for three deployments of the same app and the same PostgreSQL
 * database: origin only (`DEMO_CACHE=off`, the baseline), Strata on its memory store, Strata on
 * Redis. Requests per second, p50/p95 (all requests, reads, writes), failures, the server
 * cache's hit ratio (admin API) and the database statements per request (demo counters).
 */
import { createClient } from 'redis';
import { type Stack, startStack } from '../e2e/stack.js';
import { type Drive, drive, KEYS, READ_SHARE, WRITE_SHARE, ZIPF_S } from './fixtures/demo-mix.js';
import {
  type CacheStats,
  Cleanup,
  type Counters,
  cacheStats,
  counters,
  type DemoInstance,
  type Outcomes,
  signIn,
  stackEnv,
  startDemoInstance,
} from './fixtures/demo-stack.js';
import { count, fmtMs, pct, sleep } from './lib/latency.js';
import { stopwatch } from './lib/stopwatch.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BarChart, BenchModule, BenchResult } from './lib/types.js';

const CONNECTIONS = [100, 1_000] as const;
/** The demo's default database delay, which the aims are judged at; the other shows a faster database. */
const DEFAULT_DELAY_MS = 150;
const FAST_DELAY_MS = 10;
const ROUTE = '/api/v1/users/:id';
/** Above this share of non-2xx answers the deployment is broken, not loaded: the run fails. */
const MAX_FAILED_SHARE = 0.01;

type VariantKey = 'origin' | 'memory' | 'redis';
const VARIANTS: { key: VariantKey; label: string }[] = [
  { key: 'origin', label: 'origin only' },
  { key: 'memory', label: 'strata, memory store' },
  { key: 'redis', label: 'strata, Redis' },
];

interface Cell extends Drive {
  variant: VariantKey;
  connections: number;
  delayMs: number;
  /** Requests the instance received (reads counted by the server cache or the origin, writes by the origin). */
  received: number;
  statements: number;
  /** Server-cache outcomes of the reads, from the admin API (Strata only). */
  route?: Outcomes;
  totals?: Outcomes;
  /** Store operations that timed out, and calls the open circuit refused (Strata only). */
  store?: { timeouts: number; shortCircuited: number };
}

const lookups = (o: Outcomes) => o.hit + o.miss + o.stale + o.bypass + o['error-fallback'];
const served = (o: Outcomes) => o.hit + o.stale + o['error-fallback'];
const diff = (a: Outcomes, b: Outcomes): Outcomes => ({
  hit: b.hit - a.hit,
  miss: b.miss - a.miss,
  stale: b.stale - a.stale,
  bypass: b.bypass - a.bypass,
  'error-fallback': b['error-fallback'] - a['error-fallback'],
});

interface Snapshot {
  counters: Counters;
  stats?: CacheStats;
}

async function snapshot(instance: DemoInstance, variant: VariantKey, adminToken: string): Promise<Snapshot> {
  const counted = await counters(instance.url);
  return variant === 'origin'
    ? { counters: counted }
    : { counters: counted, stats: await cacheStats(instance.url, adminToken) };
}

async function measureCell(
  instance: DemoInstance,
  variant: VariantKey,
  connections: number,
  delayMs: number,
  seconds: number,
  token: string,
  adminToken: string,
  log: (line: string) => void,
): Promise<Cell> {
  const before = await snapshot(instance, variant, adminToken);
  const progress = setInterval(() => log(`    … ${variant}, ${count(connections)} connections: running`), 5_000);
  let measured: Drive;
  try {
    measured = await drive({
      url: instance.url,
      connections,
      seconds,
      token,
      seed: 1_000 + connections,
      cached: variant !== 'origin',
    });
  } finally {
    clearInterval(progress);
  }
  // Requests cut off when the run stopped still finish on the server: let them, then count.
  await sleep(delayMs + 500);
  const after = await snapshot(instance, variant, adminToken);
  // The demo counts writes under the route their GET matches: `PUT /api/v1/users/:id`.
  const puts = (c: Counters) => c.origin[`PUT ${ROUTE}`] ?? 0;
  const gets = (c: Counters) => c.origin[`GET ${ROUTE}`] ?? 0;
  const writes = puts(after.counters) - puts(before.counters);
  let reads = gets(after.counters) - gets(before.counters);
  const cell: Cell = {
    ...measured,
    variant,
    connections,
    delayMs,
    received: 0,
    statements: after.counters.statements - before.counters.statements,
  };
  if (before.stats && after.stats) {
    const zero = { hit: 0, miss: 0, stale: 0, bypass: 0, 'error-fallback': 0 };
    cell.route = diff(before.stats.routes[ROUTE] ?? zero, after.stats.routes[ROUTE] ?? zero);
    cell.totals = diff(before.stats.totals, after.stats.totals);
    cell.store = {
      timeouts: after.stats.store.timeouts - before.stats.store.timeouts,
      shortCircuited: after.stats.store.shortCircuited - before.stats.store.shortCircuited,
    };
    reads = lookups(cell.route);
  }
  cell.received = reads + writes;
  if (cell.received === 0) throw new Error(`${variant}: the instance counted no request`);
  if (measured.failed > MAX_FAILED_SHARE * measured.completed) {
    throw new Error(
      `${variant}, ${connections} connections: ${measured.failed} of ${measured.completed} answers were not 2xx: the deployment is broken`,
    );
  }
  return cell;
}

/** One instance per variant on the stack's database; Redis for the last. */
async function startVariants(stack: Stack, delayMs: number): Promise<Map<VariantKey, DemoInstance>> {
  const env = stackEnv(stack, delayMs);
  const started = await Promise.allSettled([
    startDemoInstance('origin-only', { ...env, DEMO_CACHE: 'off' }),
    startDemoInstance('strata-memory', env),
    startDemoInstance('strata-redis', { ...env, REDIS_URL: stack.redis.url }),
  ]);
  const instances = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s) => s.status === 'rejected');
  if (failure) {
    await Promise.all(instances.map((i) => i.stop()));
    throw (failure as PromiseRejectedResult).reason;
  }
  return new Map(VARIANTS.map((v, i) => [v.key, instances[i] as DemoInstance]));
}

const bench: BenchModule = {
  name: 'load',
  aim:
    'the seed’s load claims on a read-heavy mix (80% Zipf reads of 1,000 records, 20% purging writes) at 100 and ' +
    '1,000 connections, DEMO_DELAY_MS=150: Strata ≥ 10× the origin-only requests/s, p95 ≤ 50 ms, server-cache hit ' +
    'ratio > 80%, database statements per request −80%',
  async run({ quick, log }): Promise<BenchResult> {
    const seconds = quick ? 3 : 10;
    const warmSeconds = quick ? 1 : 3;
    const delays = quick ? [DEFAULT_DELAY_MS] : [DEFAULT_DELAY_MS, FAST_DELAY_MS];
    const elapsed = stopwatch();
    const cells: Cell[] = [];
    const cleanup = new Cleanup();
    try {
      log('  starting Redis and a PostgreSQL database');
      // Redis and the database only: every instance is started below, with its own environment.
      const stack = await startStack({ instances: [], varnish: false });
      cleanup.add(() => stack.stop());
      const redis = createClient({ url: stack.redis.url });
      redis.on('error', () => {});
      await redis.connect();
      cleanup.add(() => redis.close());

      for (const delayMs of delays) {
        const instances = await startVariants(stack, delayMs);
        const stopAll = () => Promise.all([...instances.values()].map((i) => i.stop()));
        cleanup.add(stopAll);
        log(`  DEMO_DELAY_MS=${delayMs}: three instances up (${elapsed()})`);
        const token = await signIn((instances.get('origin') as DemoInstance).url, 'alice');
        for (const variant of VARIANTS) {
          const instance = instances.get(variant.key) as DemoInstance;
          // Warm-up (not counted): connections, the JIT and the caches settle on the same mix.
          const cached = variant.key !== 'origin';
          await drive({
            url: instance.url,
            connections: 100,
            seconds: warmSeconds,
            token,
            seed: 7,
            cached,
            settleMs: 0,
          });
          for (const connections of CONNECTIONS) {
            const cell = await measureCell(
              instance,
              variant.key,
              connections,
              delayMs,
              seconds,
              token,
              stack.adminToken,
              log,
            );
            cells.push(cell);
            log(
              `  ${variant.label}, ${count(connections)} connections, ${delayMs} ms: ${count(cell.rps)} req/s, ` +
                `p95 ${fmtMs(cell.all.p95)} ms (reads ${fmtMs(cell.reads.p95)} ms), ` +
                `${(cell.statements / cell.received).toFixed(3)} statements/request` +
                `${cell.route ? `, hit ratio ${pct(served(cell.route) / lookups(cell.route))}` : ''} (${elapsed()})`,
            );
          }
        }
        await stopAll();
        await redis.flushAll(); // the next delay's Redis instance starts empty
      }
    } finally {
      await cleanup.run();
    }
    return report(cells, delays, seconds, quick);
  },
};

/** What the server cache did with the reads of each Strata cell, and how its store held up. */
function outcomeLines(cells: Cell[], labelOf: (variant: VariantKey, connections: number, delayMs: number) => string) {
  const lines = cells.flatMap((c) =>
    c.route && c.store
      ? [
          `- ${labelOf(c.variant, c.connections, c.delayMs)}: reads ${count(c.route.hit)} hit, ${count(c.route.stale)} stale, ` +
            `${count(c.route.miss)} miss, ${count(c.route.bypass)} bypassed; store ${count(c.store.timeouts)} timeouts, ` +
            `${count(c.store.shortCircuited)} calls refused by its open circuit; X-Cache HIT or STALE on ` +
            `${pct(c.readHits)} of the reads the load generator timed.`,
        ]
      : [],
  );
  if (cells.some((c) => (c.route?.bypass ?? 0) > 0)) {
    lines.push(
      '',
      'Bypassed reads went to the origin without the server cache: while the store’s circuit is open (the calls ' +
        'it refused are counted above), and while purges wait in the ordered outbox after a store operation failed ' +
        '— the server cache is bypassed until the outbox is flushed, so nothing purged can be served from it. With ' +
        'the instance’s event loop saturated, a few store operations exceed their 100 ms, and with 20% of requests ' +
        'purging, the outbox rarely stays empty for long: overload costs the Redis variant much of its hit ratio.',
    );
  }
  return lines;
}

function report(cells: Cell[], delays: number[], seconds: number, quick: boolean): BenchResult {
  const find = (variant: VariantKey, connections: number, delayMs: number) =>
    cells.find((c) => c.variant === variant && c.connections === connections && c.delayMs === delayMs) as Cell;
  const labelOf = (variant: VariantKey, connections: number, delayMs: number) =>
    `${VARIANTS.find((v) => v.key === variant)?.label}, ${count(connections)} conns, ${delayMs} ms`;
  const perRequest = (c: Cell) => c.statements / c.received;
  const hitRatio = (c: Cell) => (c.route ? served(c.route) / lookups(c.route) : 0);

  const rows: Row[] = [];
  const table = [
    '| Variant | Connections | DB delay | req/s | vs origin only | p50 ms | p95 ms | reads p95 | writes p95 | non-2xx / errors | hit ratio | statements/request | DB load vs origin only |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const delayMs of delays) {
    for (const connections of CONNECTIONS) {
      const base = find('origin', connections, delayMs);
      for (const variant of VARIANTS) {
        const c = find(variant.key, connections, delayMs);
        const row: Row = { label: labelOf(variant.key, connections, delayMs), opsPerSec: c.rps };
        if (c.spread > 0) row.spread = c.spread;
        if (variant.key !== 'origin') row.baseline = labelOf('origin', connections, delayMs);
        rows.push(row);
        const origin = variant.key === 'origin';
        table.push(
          `| ${variant.label} | ${count(connections)} | ${delayMs} ms | ${count(c.rps)} | ${origin ? '(baseline)' : formatRatio(c.rps / base.rps)} | ` +
            `${fmtMs(c.all.p50)} | ${fmtMs(c.all.p95)} | ${fmtMs(c.reads.p95)} | ${fmtMs(c.writes.p95)} | ` +
            `${count(c.failed)} / ${count(c.errors)} | ${origin ? '—' : pct(hitRatio(c))} | ${perRequest(c).toFixed(3)} | ` +
            `${origin ? '(baseline)' : `${(100 * (perRequest(c) / perRequest(base) - 1)).toFixed(1)}%`} |`,
        );
      }
    }
  }

  const strata = VARIANTS.filter((v) => v.key !== 'origin');
  const judged = (fn: (c: Cell, base: Cell) => number) =>
    strata.flatMap((v) =>
      CONNECTIONS.map((connections) => ({
        v,
        connections,
        value: fn(find(v.key, connections, DEFAULT_DELAY_MS), find('origin', connections, DEFAULT_DELAY_MS)),
      })),
    );
  const listed = (values: ReturnType<typeof judged>, show: (x: number) => string) =>
    values.map((x) => `${x.v.label} at ${count(x.connections)}: ${show(x.value)}`).join('; ');
  const speedups = judged((c, base) => c.rps / base.rps);
  const p95s = judged((c) => c.all.p95);
  const readP95s = judged((c) => c.reads.p95);
  const hitRatios = judged((c) => hitRatio(c));
  const totalRatios = judged((c) => (c.totals ? served(c.totals) / lookups(c.totals) : 0));
  const reductions = judged((c, base) => 1 - perRequest(c) / perRequest(base));

  // Little's law: a connection waits for its answer before it sends the next request, and a write
  // always reaches the database (DEMO_DELAY_MS) — so does every origin-only request.
  const writeShare = WRITE_SHARE;
  const bound = (connections: number, delayMs: number) => connections / ((writeShare * delayMs) / 1_000);
  const originBound = (connections: number, delayMs: number) => connections / (delayMs / 1_000);
  const chart: BarChart = {
    title: 'Requests per second, 80% reads / 20% writes',
    unit: 'req/s',
    groups: delays.flatMap((delayMs) =>
      CONNECTIONS.map((connections) => ({
        label: `${count(connections)} connections${delays.length > 1 ? `, DB ${delayMs} ms` : ''}`,
        bars: VARIANTS.map((v) => ({ series: v.label, value: find(v.key, connections, delayMs).rps })),
      })),
    ),
  };

  return {
    rows,
    chart,
    notes: [
      `ops/s = requests per second completed after the first second (${seconds} s runs${quick ? ', quick mode' : ''}), ` +
        `± MAD over 500 ms buckets. One instance at a time, after a warm-up on the same mix; autocannon in this process, ` +
        'the instance, PostgreSQL and Redis in their own, on the same 2 cores.',
      `Mix: ${pct(READ_SHARE)} \`GET /api/v1/users/<id>\` with ids drawn Zipf (s = ${ZIPF_S}) over 1..${count(KEYS)}, ` +
        `${pct(writeShare)} \`PUT /api/v1/users/<id>\` (a new bio, signed in as alice) with ids uniform over 1..${count(KEYS)}: ` +
        'edits do not follow read popularity. Each write purges `user:<id>` and `users`, and its table in the query cache. ' +
        'Were writes as skewed as reads, every record would be purged once per four reads of it, capping any cache’s ' +
        'hit ratio near 75%.',
      'Database: all three variants on the same PostgreSQL database (not PGlite, which would run inside the instance ' +
        'and share its core). Origin only is `DEMO_CACHE=off`: the same Hono app without Strata (no cache headers, no ' +
        'server cache, no query cache).',
      `Hit ratio: the server cache's outcomes for \`GET ${ROUTE}\` from the admin API (hit + stale over lookups) ` +
        `during the run; the admin API's totals also count the query cache's lookups: ${listed(totalRatios, pct)}. ` +
        'Reads arriving while a purged record is fetched again wait for that one origin call (single flight) and ' +
        'count as misses: the more requests per second, the more of them per purge. ' +
        'Statements/request: statements the database ran (demo counters) over requests the instance received.',
      `Ceiling (Little's law): every write waits DEMO_DELAY_MS, so with ${pct(writeShare)} writes a connection ` +
        `completes at most 1 / (${writeShare} × delay) requests per second: ${delays
          .flatMap((d) =>
            CONNECTIONS.map(
              (c) =>
                `${count(bound(c, d))} req/s for Strata vs ${count(originBound(c, d))} for origin only at ${count(c)} connections, ${d} ms`,
            ),
          )
          .join('; ')}. At ${DEFAULT_DELAY_MS} ms, whatever the caches do, Strata can be at most ` +
        `${formatRatio(1 / writeShare)} origin only where connections, not CPU, bound both; and p95 over the mix is ` +
        `at least the write latency (${pct(writeShare)} of requests).`,
      'DEMO_DELAY_MS is a wait, not a load: the simulated database runs any number of statements at once, so the ' +
        'origin-only instance gains throughput with every connection until its CPU is the limit, where a real ' +
        'database would saturate first. Past that point requests/s compare CPU cost per request, which is higher ' +
        'with a cache in the path (and its purges on every write) than for an origin that mostly sleeps.',
      '',
      ...table,
      '',
      ...outcomeLines(cells, labelOf),
    ],
    aims: [
      {
        aim: `Strata ≥ 10× the origin-only requests/s at 100 and 1,000 connections (DEMO_DELAY_MS=${DEFAULT_DELAY_MS})`,
        met: speedups.every((x) => x.value >= 10),
        measured: listed(speedups, formatRatio),
      },
      {
        aim: 'p95 ≤ 50 ms over the mix at 100 and 1,000 connections',
        met: p95s.every((x) => x.value <= 50),
        measured: `${listed(p95s, (v) => `${fmtMs(v)} ms`)} (reads alone: ${listed(readP95s, (v) => `${fmtMs(v)} ms`)})`,
      },
      {
        aim: `server-cache hit ratio > 80% on the reads`,
        met: hitRatios.every((x) => x.value > 0.8),
        measured: listed(hitRatios, pct),
      },
      {
        aim: 'database statements per request ≥ 80% fewer than origin only',
        met: reductions.every((x) => x.value >= 0.8),
        measured: `${listed(reductions, (v) => `−${pct(v)}`)}; writes alone are ${pct(writeShare)} of requests and each runs one statement`,
      },
    ],
  };
}

export default bench;
