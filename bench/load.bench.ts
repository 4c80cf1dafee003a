/**
 * Load capacity of the demo (the seed's "Load Capacity" table): autocannon at 100 and 1,000
 * concurrent connections against one instance at a time, on a realistic mix — 80% reads of 1,000
 * user records drawn from a Zipf distribution (s = 1), 20% writes (`PUT`, which purge the record)
 * spread evenly over them — for three deployments of the same app and the same PostgreSQL
 * database: origin only (`DEMO_CACHE=off`, the baseline), Strata on its memory store, Strata on
 * Redis. The database either sleeps before each statement (`DEMO_DELAY_MS`, 150 and 10 ms) or
 * does real work (`DEMO_DB_WORK`: PostgreSQL sums generated rows, a few ms of its CPU), so origin
 * only is bounded by the database as in production. Requests per second, p50/p95 (all requests,
 * reads, writes), failures, the server cache's hit ratio, collapsed reads and origin calls per
 * read (admin API) and the database statements per request (demo counters).
 */
import { SERVER_COUNTERS, type ServerCounters, serverHitRatio, serverReads } from '@strata/policy/protocol';
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
  signIn,
  stackEnv,
  startDemoInstance,
} from './fixtures/demo-stack.js';
import { cpuTimeMs } from './lib/demo-process.js';
import { count, fmtMs, pct, sleep } from './lib/latency.js';
import { stopwatch } from './lib/stopwatch.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BarChart, BenchModule, BenchResult } from './lib/types.js';

const CONNECTIONS = [100, 1_000] as const;

/** How the database costs each statement: a wait (`delayMs`) or work of its own (`work` rows summed). */
interface Database {
  key: 'slow' | 'fast' | 'cpu';
  delayMs: number;
  work: number;
  /** In case names: `150 ms`, as before, or `CPU 30,000 rows`. */
  label: string;
}
/** The demo's default database delay, which the seed's aims are judged at. */
const DEFAULT_DELAY_MS = 150;
/** Rows PostgreSQL generates and sums before each statement: about 3 ms of one idle core. */
const CPU_WORK_ROWS = 30_000;
const SLOW: Database = { key: 'slow', delayMs: DEFAULT_DELAY_MS, work: 0, label: `${DEFAULT_DELAY_MS} ms` };
const FAST: Database = { key: 'fast', delayMs: 10, work: 0, label: '10 ms' };
const CPU: Database = { key: 'cpu', delayMs: 0, work: CPU_WORK_ROWS, label: `CPU ${count(CPU_WORK_ROWS)} rows` };
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
  db: Database;
  /** Requests the instance received (reads counted by the server cache or the origin, writes by the origin). */
  received: number;
  statements: number;
  /** Server-cache outcomes of the reads, from the admin API (Strata only). */
  route?: ServerCounters;
  totals?: ServerCounters;
  /** Store operations that timed out, and calls the open circuit refused (Strata only). */
  store?: { timeouts: number; shortCircuited: number };
  /** CPU time the instance's process used over the run (all its threads), in ms; undefined without /proc. */
  cpuMs?: number;
}

const counted = (c: Partial<ServerCounters> | undefined, name: keyof ServerCounters) => c?.[name] ?? 0;
const diff = (a: Partial<ServerCounters> | undefined, b: Partial<ServerCounters> | undefined): ServerCounters =>
  Object.fromEntries(SERVER_COUNTERS.map((name) => [name, counted(b, name) - counted(a, name)])) as ServerCounters;

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
  db: Database,
  seconds: number,
  token: string,
  adminToken: string,
  log: (line: string) => void,
): Promise<Cell> {
  const before = await snapshot(instance, variant, adminToken);
  const cpuBefore = await cpuTimeMs(instance.pid);
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
  await sleep(db.delayMs + 500);
  const cpuAfter = await cpuTimeMs(instance.pid);
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
    db,
    received: 0,
    statements: after.counters.statements - before.counters.statements,
    ...(cpuBefore !== undefined && cpuAfter !== undefined ? { cpuMs: cpuAfter - cpuBefore } : {}),
  };
  if (before.stats && after.stats) {
    cell.route = diff(before.stats.routes[ROUTE], after.stats.routes[ROUTE]);
    cell.totals = diff(before.stats.totals, after.stats.totals);
    cell.store = {
      timeouts: after.stats.store.timeouts - before.stats.store.timeouts,
      shortCircuited: after.stats.store.shortCircuited - before.stats.store.shortCircuited,
    };
    reads = serverReads(cell.route);
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
async function startVariants(stack: Stack, db: Database): Promise<Map<VariantKey, DemoInstance>> {
  const env = { ...stackEnv(stack, db.delayMs), DEMO_DB_WORK: String(db.work) };
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
    const databases = quick ? [SLOW, CPU] : [SLOW, FAST, CPU];
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

      for (const db of databases) {
        const instances = await startVariants(stack, db);
        const stopAll = () => Promise.all([...instances.values()].map((i) => i.stop()));
        cleanup.add(stopAll);
        log(`  database ${db.label}: three instances up (${elapsed()})`);
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
              db,
              seconds,
              token,
              stack.adminToken,
              log,
            );
            cells.push(cell);
            log(
              `  ${variant.label}, ${count(connections)} connections, ${db.label}: ${count(cell.rps)} req/s, ` +
                `p95 ${fmtMs(cell.all.p95)} ms (reads ${fmtMs(cell.reads.p95)} ms), ` +
                `${(cell.statements / cell.received).toFixed(3)} statements/request` +
                `${cell.route ? `, hit ratio ${pct(serverHitRatio(cell.route))}` : ''} (${elapsed()})`,
            );
          }
        }
        await stopAll();
        await redis.flushAll(); // the next delay's Redis instance starts empty
      }
    } finally {
      await cleanup.run();
    }
    return report(cells, databases, seconds, quick);
  },
};

type LabelOf = (variant: VariantKey, connections: number, db: Database) => string;

/** What the server cache did with the reads of each Strata cell, and how its store held up. */
function outcomeLines(cells: Cell[], labelOf: LabelOf) {
  const lines = cells.flatMap((c) =>
    c.route && c.store
      ? [
          `- ${labelOf(c.variant, c.connections, c.db)}: reads ${count(c.route.hit)} hit, ${count(c.route.stale)} stale, ` +
            `${count(c.route.miss)} miss, ${count(c.route.collapsed)} collapsed, ${count(c.route.bypass)} bypassed ` +
            `(hit ratio ${pct(serverHitRatio(c.route))}, ${perRead(c.route.origin, c.route)} origin calls per read); ` +
            `store ${count(c.store.timeouts)} timeouts, ${count(c.store.shortCircuited)} calls refused by its open ` +
            `circuit; X-Cache HIT or STALE on ${pct(c.readHits)} of the reads the load generator timed.`,
        ]
      : [],
  );
  if (cells.some((c) => (c.route?.bypass ?? 0) > 0)) {
    lines.push(
      '',
      'Bypassed reads went to the origin without the server cache: while the store’s circuit is open (the calls ' +
        'it refused are counted above), and while a purge naming the record waits in the ordered outbox after a ' +
        'store operation failed (only the entries it names, and those stored since, are bypassed until the outbox ' +
        'is flushed, so nothing purged can be served). With the instance’s event loop saturated, a few store ' +
        'operations exceed their 100 ms.',
    );
  }
  return lines;
}

const perRead = (n: number, c: ServerCounters) => (serverReads(c) === 0 ? '0' : (n / serverReads(c)).toFixed(3));

function report(cells: Cell[], databases: Database[], seconds: number, quick: boolean): BenchResult {
  const find = (variant: VariantKey, connections: number, db: Database) =>
    cells.find((c) => c.variant === variant && c.connections === connections && c.db === db) as Cell;
  const labelOf: LabelOf = (variant, connections, db) =>
    `${VARIANTS.find((v) => v.key === variant)?.label}, ${count(connections)} conns, ${db.label}`;
  const perRequest = (c: Cell) => c.statements / c.received;
  /** The instance's CPU per request received, in µs. */
  const cpuPerRequest = (c: Cell) => (c.cpuMs === undefined ? undefined : (1_000 * c.cpuMs) / c.received);
  const cpuRatio = (c: Cell, base: Cell) => {
    const [mine, theirs] = [cpuPerRequest(c), cpuPerRequest(base)];
    return mine === undefined || theirs === undefined || theirs === 0 ? undefined : mine / theirs;
  };
  const hitRatio = (c: Cell) => (c.route ? serverHitRatio(c.route) : 0);

  const rows: Row[] = [];
  const table = [
    '| Variant | Connections | Database | req/s | vs origin only | p50 ms | p95 ms | reads p95 | writes p95 | non-2xx / errors | hit ratio | collapsed / read | origin calls / read | statements/request | DB load vs origin only | instance CPU µs/request | CPU/request vs origin only |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const db of databases) {
    for (const connections of CONNECTIONS) {
      const base = find('origin', connections, db);
      for (const variant of VARIANTS) {
        const c = find(variant.key, connections, db);
        const row: Row = { label: labelOf(variant.key, connections, db), opsPerSec: c.rps };
        if (c.spread > 0) row.spread = c.spread;
        if (variant.key !== 'origin') row.baseline = labelOf('origin', connections, db);
        rows.push(row);
        const origin = variant.key === 'origin';
        const route = c.route;
        const cpu = cpuPerRequest(c);
        const cpuVsOrigin = cpuRatio(c, base);
        table.push(
          `| ${variant.label} | ${count(connections)} | ${db.label} | ${count(c.rps)} | ${origin ? '(baseline)' : formatRatio(c.rps / base.rps)} | ` +
            `${fmtMs(c.all.p50)} | ${fmtMs(c.all.p95)} | ${fmtMs(c.reads.p95)} | ${fmtMs(c.writes.p95)} | ` +
            `${count(c.failed)} / ${count(c.errors)} | ${route ? pct(hitRatio(c)) : '—'} | ` +
            `${route ? perRead(route.collapsed, route) : '—'} | ${route ? perRead(route.origin, route) : '—'} | ` +
            `${perRequest(c).toFixed(3)} | ` +
            `${origin ? '(baseline)' : `${(100 * (perRequest(c) / perRequest(base) - 1)).toFixed(1)}%`} | ` +
            `${cpu === undefined ? '—' : count(cpu)} | ` +
            `${origin ? '(baseline)' : cpuVsOrigin === undefined ? '—' : formatRatio(cpuVsOrigin)} |`,
        );
      }
    }
  }

  const strata = VARIANTS.filter((v) => v.key !== 'origin');
  const judged = (fn: (c: Cell, base: Cell) => number, db: Database = SLOW, variants = strata) =>
    variants.flatMap((v) =>
      CONNECTIONS.map((connections) => ({
        v,
        connections,
        value: fn(find(v.key, connections, db), find('origin', connections, db)),
      })),
    );
  const listed = (values: ReturnType<typeof judged>, show: (x: number) => string) =>
    values.map((x) => `${x.v.label} at ${count(x.connections)}: ${show(x.value)}`).join('; ');
  const speedups = judged((c, base) => c.rps / base.rps);
  const p95s = judged((c) => c.all.p95);
  const readP95s = judged((c) => c.reads.p95);
  const hitRatios = judged((c) => hitRatio(c));
  const totalRatios = judged((c) => (c.totals ? serverHitRatio(c.totals) : 0));
  const reductions = judged((c, base) => 1 - perRequest(c) / perRequest(base));
  const redis = strata.filter((v) => v.key === 'redis');
  const has = (db: Database) => databases.includes(db);
  const fastSpeedups = has(FAST) ? judged((c, base) => c.rps / base.rps, FAST, redis) : [];
  const fastHits = has(FAST) ? judged((c) => hitRatio(c), FAST, redis) : [];
  const cpuSpeedups = has(CPU) ? judged((c, base) => c.rps / base.rps, CPU, redis) : [];
  const cpuHits = has(CPU) ? judged((c) => hitRatio(c), CPU, redis) : [];
  const cpuBound = has(CPU) ? judged((c, base) => perRequest(base) / perRequest(c), CPU, redis) : [];
  const fastCpu = has(FAST)
    ? judged((c, base) => cpuRatio(c, base) ?? Number.NaN, FAST, redis).filter((x) => Number.isFinite(x.value))
    : [];
  const atLeast = (values: ReturnType<typeof judged>, min: (connections: number) => number) =>
    values.length > 0 && values.every((x) => x.value >= min(x.connections));

  // Little's law: a connection waits for its answer before it sends the next request, and a write
  // always reaches the database (DEMO_DELAY_MS) — so does every origin-only request.
  const writeShare = WRITE_SHARE;
  const sleeping = databases.filter((db) => db.work === 0);
  const bound = (connections: number, delayMs: number) => connections / ((writeShare * delayMs) / 1_000);
  const originBound = (connections: number, delayMs: number) => connections / (delayMs / 1_000);
  const chart: BarChart = {
    title: 'Requests per second, 80% reads / 20% writes',
    unit: 'req/s',
    groups: databases.flatMap((db) =>
      CONNECTIONS.map((connections) => ({
        label: `${count(connections)} connections, DB ${db.label}`,
        bars: VARIANTS.map((v) => ({ series: v.label, value: find(v.key, connections, db).rps })),
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
      `Hit ratio: the server cache's outcomes for \`GET ${ROUTE}\` from the admin API, (hit + stale) over all reads ` +
        `during the run; the admin API's totals also count the query cache's lookups: ${listed(totalRatios, pct)}. ` +
        'Reads arriving while a purged record is fetched again wait for that one origin call (single flight): they ' +
        'count as collapsed, neither hits nor misses, and the origin calls per read say what reached the origin. ' +
        'Statements/request: statements the database ran (demo counters) over requests the instance received.',
      `Ceiling (Little's law): every write waits DEMO_DELAY_MS, so with ${pct(writeShare)} writes a connection ` +
        `completes at most 1 / (${writeShare} × delay) requests per second: ${sleeping
          .flatMap((db) =>
            CONNECTIONS.map(
              (c) =>
                `${count(bound(c, db.delayMs))} req/s for Strata vs ${count(originBound(c, db.delayMs))} for origin only at ${count(c)} connections, ${db.label}`,
            ),
          )
          .join('; ')}. At ${DEFAULT_DELAY_MS} ms, whatever the caches do, Strata can be at most ` +
        `${formatRatio(1 / writeShare)} origin only where connections, not CPU, bound both; and p95 over the mix is ` +
        `at least the write latency (${pct(writeShare)} of requests).`,
      'DEMO_DELAY_MS is a wait, not a load: the simulated database runs any number of statements at once, so the ' +
        'origin-only instance gains throughput with every connection until its CPU is the limit, where a real ' +
        'database would saturate first. Past that point requests/s compare CPU cost per request, which is higher ' +
        'with a cache in the path (and its purges on every write) than for an origin that mostly sleeps.',
      'Instance CPU/request: the CPU time (user and system, all threads, from /proc) the instance used from the ' +
        'start of the run until its last answer, over the requests it received. It moves less than requests/s with ' +
        'the machine’s speed from one cell to the next, and it is what the cache adds or saves the instance, apart ' +
        'from what it saves the database. It falls as the load rises (fuller event loop turns, fewer wake-ups), so ' +
        'compare it within a row group. At 10 ms, where the database only waits, origin only is limited by the ' +
        `cores the instance shares with autocannon and PostgreSQL; there Strata on Redis needed ${fastCpu.length > 0 ? listed(fastCpu, formatRatio) : '(not measured here)'} ` +
        'origin only’s CPU per request: the writes and misses, each of which does the origin’s work and the cache’s, ' +
        'cost more than the hits save.',
      `${CPU.label}: the database does real work instead (DEMO_DB_WORK=${CPU_WORK_ROWS}: before each statement ` +
        'PostgreSQL generates and sums that many rows, a few ms of its CPU, no wait), so origin only is bounded by ' +
        'the database, as in production, and the database shares the 2 cores with the instance and the load generator.' +
        (cpuBound.length > 0
          ? ` Were the database the only limit, a variant's requests/s over origin only's could reach at most origin ` +
            `only's statements per request over its own: ${listed(cpuBound, formatRatio)} (writes alone run ` +
            `${writeShare} statements per request, and a read of a record a write just changed must run one).`
          : ''),
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
      {
        aim: 'Redis store, 10 ms database: ≥ 1.2× origin only at 100 connections and ≥ 1.0× at 1,000, hit ratio ≥ 75% at both',
        met: atLeast(fastSpeedups, (connections) => (connections === 100 ? 1.2 : 1.0)) && atLeast(fastHits, () => 0.75),
        measured: has(FAST)
          ? `${listed(fastSpeedups, formatRatio)}; hit ratio ${listed(fastHits, pct)}`
          : 'not run (quick mode)',
      },
      {
        aim: `Redis store, CPU-bound database (${CPU.label}): ≥ 3× origin only`,
        met: atLeast(cpuSpeedups, () => 3),
        measured: has(CPU) ? `${listed(cpuSpeedups, formatRatio)}; hit ratio ${listed(cpuHits, pct)}` : 'not run',
      },
    ],
  };
}

export default bench;
