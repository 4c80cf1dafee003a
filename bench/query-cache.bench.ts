/**
 * The query cache against a real PostgreSQL: a read-heavy workload (90% reads, 10% writes over
 * 10 tables) run three times, same operations in the same order, 8 in flight: (A) straight to
 * PostgreSQL through the driver, (B) through `queryCache` with a memory store, (C) through
 * `queryCache` with a Redis store. Two workloads: today's, writes on the same Zipf ids as the
 * reads, and one with writes uniform over the rows. Queries reaching PostgreSQL are counted in
 * every run, so the database load reduction is measured, not inferred from the hit ratio, and
 * compared with the ceiling: what perfect row-level invalidation without expiry would let through.
 */
import { defineManifest, serverCache } from '@strata/policy';
import { type Bus, createStrata, memoryStore, type Store } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { postgresDriver, type QueryCache, queryCache, type SqlDriver } from '@strata/server/sql';
import pg from 'pg';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { prng } from './lib/prng.js';
import { type Row, renderTable } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const TABLES = 10;
const ROWS = 1_000;
const CONCURRENCY = 8;
/**
 * The open-loop runs offer each side this share of what PostgreSQL alone sustained closed loop:
 * the two sides together stay below what it sustains.
 */
const PACED_SHARE = 0.25;
/**
 * Open-loop rounds per workload (one in quick mode). In each, PostgreSQL alone and the query cache
 * run side by side on two copies of the tables, the same ops due on both at the same moments.
 * Their p95 falls among the UPDATEs, which wait for PostgreSQL's WAL flush, and a flush that
 * stalls on the disk for tens of ms moves a run's p95 tenfold: run one after the other, a pair
 * says which run met a stall; side by side, a stall falls on both. The aim compares the medians.
 */
const PACED_ROUNDS = 3;
const TTL = 60;
const SEED_CLAIM = 80;
/** Every n-th write is followed by a read of the same row that must see the written value. */
const VERIFY_EVERY = 10;

type Op =
  | { kind: 'point'; table: number; id: number }
  | { kind: 'list'; table: number; after: number }
  | { kind: 'write'; table: number; id: number; verify: boolean };

/** Zipf(s) over 1..n by inverse CDF: rank 1 is the hottest key. */
function zipf(n: number, s: number, random: () => number): () => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += 1 / k ** s;
    cdf.push(total);
  }
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

type Writes = 'zipf' | 'uniform';

function workload(count: number, writes: Writes): Op[] {
  const random = prng(writes === 'zipf' ? 0x5eed : 0x5eee);
  const hotId = zipf(ROWS, 1, random);
  const hotPage = zipf(ROWS / 20, 1, random);
  const writtenId = writes === 'zipf' ? hotId : () => 1 + Math.floor(random() * ROWS);
  const ops: Op[] = [];
  let written = 0;
  for (let i = 0; i < count; i++) {
    const table = Math.floor(random() * TABLES);
    const roll = random();
    if (roll < 0.1) {
      written++;
      ops.push({ kind: 'write', table, id: writtenId(), verify: written % VERIFY_EVERY === 0 });
    } else if (roll < 0.2) ops.push({ kind: 'list', table, after: (hotPage() - 1) * 20 });
    else ops.push({ kind: 'point', table, id: hotId() });
  }
  return ops;
}

/**
 * Queries that reach PostgreSQL under perfect row-level invalidation and no expiry, the
 * operations taken in order: every write, the first read of each row and page, a read of a row
 * after a write to it, and a page read after any write to its table.
 */
function ceiling(ops: readonly Op[]): number {
  const rows = new Set<string>();
  const pages = new Map<number, Set<number>>();
  let queries = 0;
  const read = (key: string) => {
    if (rows.has(key)) return;
    rows.add(key);
    queries++;
  };
  for (const op of ops) {
    if (op.kind === 'point') read(`${op.table}:${op.id}`);
    else if (op.kind === 'list') {
      const cached = pages.get(op.table) ?? new Set<number>();
      pages.set(op.table, cached);
      if (!cached.has(op.after)) queries++;
      cached.add(op.after);
    } else {
      queries++;
      rows.delete(`${op.table}:${op.id}`);
      pages.delete(op.table);
      if (op.verify) read(`${op.table}:${op.id}`);
    }
  }
  return queries;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

interface RunResult {
  label: string;
  opsPerSec: number;
  p50: number;
  p95: number;
  dbQueries: number;
  /** Mean ms PostgreSQL took per UPDATE, as the driver saw it. */
  updateMs: number;
  /** Mean number of other UPDATEs in flight when one began. */
  overlap: number;
  verified: number;
  /** Read-after-write checks that saw an older value than the write returned. */
  stale: string[];
  /** p50 ms per kind of operation. */
  byKind: Record<Op['kind'], number>;
  /** Share of the run this process's event loop spent busy, 0–1 (answers from PostgreSQL wait behind that work). */
  busy: number;
}

interface Counted {
  count: number;
  /** UPDATEs sent, the ms PostgreSQL took for them in all, and the sum of the UPDATEs already in flight as each began. */
  updates: number;
  updateMs: number;
  overlap: number;
}

/** A driver that counts the statements it sends to PostgreSQL, and times the UPDATEs. */
function counting(driver: SqlDriver): SqlDriver & Counted {
  let inFlight = 0;
  const wrapped = {
    ...driver,
    count: 0,
    updates: 0,
    updateMs: 0,
    overlap: 0,
    async query<R>(sql: string, params?: readonly unknown[]) {
      wrapped.count++;
      if (!sql.startsWith('UPDATE')) return driver.query<R>(sql, params);
      const started = performance.now();
      wrapped.overlap += inFlight++;
      try {
        return await driver.query<R>(sql, params);
      } finally {
        inFlight--;
        wrapped.updates++;
        wrapped.updateMs += performance.now() - started;
      }
    },
  };
  return wrapped;
}

type Runner = Pick<QueryCache, 'query'>;

/** One side of a run: what it queries through, the driver it counts on, and its own tables. */
interface Side {
  label: string;
  runner: Runner;
  db: Counted;
  schema: string;
}

/**
 * Runs `ops` on every side and times each op. Closed loop (no `pace`, one side): CONCURRENCY
 * workers, each op timed from when it started. Open loop (`pace` ops/s): op i is due at i / pace
 * seconds on every side at once, whatever is still running, and is timed from when it was due.
 */
async function execute(sides: readonly Side[], ops: readonly Op[], log: (line: string) => void, pace?: number) {
  if (pace === undefined && sides.length !== 1) throw new Error('a closed-loop run has one side');
  let next = 0;
  const runs = sides.map((side) => ({
    side,
    latencies: new Array<number>(ops.length),
    verified: 0,
    stale: [] as string[],
    before: side.db.count,
    updatesBefore: { n: side.db.updates, ms: side.db.updateMs, overlap: side.db.overlap },
  }));
  const one = async (run: (typeof runs)[number], op: Op): Promise<void> => {
    const { runner, schema, label } = run.side;
    const t = `${schema}.t${op.table}`;
    if (op.kind === 'point') {
      await runner.query(`SELECT * FROM ${t} WHERE id = $1`, [op.id]);
    } else if (op.kind === 'list') {
      await runner.query(`SELECT id, name, value FROM ${t} WHERE id > $1 ORDER BY id LIMIT 20`, [op.after]);
    } else {
      const written = await runner.query<{ value: number }>(
        `UPDATE ${t} SET value = value + 1, updated_at = now() WHERE id = $1 RETURNING value`,
        [op.id],
      );
      const value = written.rows[0]?.value;
      if (value === undefined) throw new Error(`${label}: UPDATE of ${t} id ${op.id} returned no row`);
      if (op.verify) {
        // Values only grow: a read issued after the write answered must see at least what it wrote.
        const read = await runner.query<{ value: number }>(`SELECT * FROM ${t} WHERE id = $1`, [op.id]);
        const seen = read.rows[0]?.value;
        // Recorded, not thrown, so the run finishes and every stale read is listed; the bench fails after.
        if (seen === undefined || seen < value) run.stale.push(`${t} id ${op.id}: saw ${seen}, wrote ${value}`);
        run.verified++;
      }
    }
  };
  const labels = sides.map((side) => side.label).join(' and ');
  const started = performance.now();
  const loopBefore = performance.eventLoopUtilization();
  const progress = setInterval(() => {
    const done = Math.min(next, ops.length).toLocaleString('en-US');
    log(`    ${labels}: ${done} of ${ops.length.toLocaleString('en-US')} ops issued`);
  }, 5_000);
  try {
    if (pace === undefined) {
      const run = runs[0] as (typeof runs)[number];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < ops.length) {
            // Each op starts in a task of its own, as a request arriving on a socket does: hits
            // answered from memory would otherwise chain as microtasks and hold back every reply
            // from PostgreSQL and Redis until the chain ends.
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (next >= ops.length) break;
            const i = next++;
            const t0 = performance.now();
            await one(run, ops[i] as Op);
            run.latencies[i] = performance.now() - t0;
          }
        }),
      );
    } else {
      // Open loop: op i is due at i / pace seconds, whatever is still running, as requests arrive
      // from independent clients; its latency counts from when it was due, so falling behind shows.
      // With several sides, each gets op i at the same moment (which goes first alternates), so
      // a stall of the database or of this process falls on all of them alike.
      const running: Promise<void>[] = [];
      while (next < ops.length) {
        const now = performance.now();
        while (next < ops.length && started + (next * 1_000) / pace <= now) {
          const i = next++;
          const due = started + (i * 1_000) / pace;
          for (let k = 0; k < runs.length; k++) {
            const run = runs[(i + k) % runs.length] as (typeof runs)[number];
            running.push(
              one(run, ops[i] as Op).then(() => {
                run.latencies[i] = performance.now() - due;
              }),
            );
          }
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await Promise.all(running);
    }
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - started) / 1_000;
  const busy = performance.eventLoopUtilization(loopBefore).utilization;
  return runs.map(({ side, latencies, verified, stale, before, updatesBefore }) => {
    const { db } = side;
    const sorted = [...latencies].sort((a, b) => a - b);
    const kindP50 = (kind: Op['kind']) =>
      percentile(
        latencies.filter((_, i) => ops[i]?.kind === kind).sort((a, b) => a - b),
        0.5,
      );
    return {
      label: side.label,
      opsPerSec: ops.length / seconds,
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      dbQueries: db.count - before,
      updateMs: (db.updateMs - updatesBefore.ms) / Math.max(1, db.updates - updatesBefore.n),
      overlap: (db.overlap - updatesBefore.overlap) / Math.max(1, db.updates - updatesBefore.n),
      verified,
      stale,
      byKind: { point: kindP50('point'), list: kindP50('list'), write: kindP50('write') },
      busy,
    } satisfies RunResult;
  });
}

/** After a run: every hot row read through the cache equals the row in PostgreSQL. */
async function sweep(label: string, qc: QueryCache, pool: pg.Pool, schema: string): Promise<number> {
  let checked = 0;
  for (let table = 0; table < TABLES; table++) {
    const t = `${schema}.t${table}`;
    const truth = await pool.query<{ id: number; value: number }>(`SELECT id, value FROM ${t} WHERE id <= 100`);
    for (const row of truth.rows) {
      const cached = await qc.query<{ value: number }>(`SELECT * FROM ${t} WHERE id = $1`, [row.id]);
      if (cached.rows[0]?.value !== row.value) {
        throw new Error(
          `${label}: STALE ENTRY ${t} id ${row.id}: cache ${cached.rows[0]?.value}, database ${row.value}`,
        );
      }
      checked++;
    }
  }
  return checked;
}

/** Median ms per call of `fn`, run sequentially after a warm-up. */
async function perCall(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return percentile(
    times.sort((a, b) => a - b),
    0.5,
  );
}

interface WorkloadResult {
  name: string;
  ops: Op[];
  /** Queries reaching PostgreSQL under perfect row-level invalidation (`ceiling`). */
  ceiling: number;
  /** The baseline first, then memory store, then Redis store. */
  results: RunResult[];
  /** One hit alone against the same point read on PostgreSQL, per cached variant. */
  hits: { label: string; hitMs: number; directMs: number }[];
  /**
   * The same ops at equal offered load (open loop, `rate` ops/s), in rounds: PostgreSQL alone and
   * the memory store, one run each per round, in `order`.
   */
  paced?: { rate: number; base: RunResult[]; memory: RunResult[]; waits: string };
}

const WORKLOADS: { name: string; prefix: string; writes: Writes; describe: string }[] = [
  { name: "today's workload", prefix: '', writes: 'zipf', describe: 'UPDATEs on the same Zipf ids' },
  {
    name: 'uniform writes',
    prefix: 'uniform writes: ',
    writes: 'uniform',
    describe: 'UPDATEs on ids uniform over the rows',
  },
];

/**
 * The tables as every run finds them: freshly filled, analyzed, their pages in PostgreSQL's
 * buffers. A run makes some 4,000 UPDATEs, and the dead row versions they leave slow the next
 * run's UPDATEs: without a reset, whichever variant ran later paid for the earlier runs' writes
 * (the runs go in a fixed order, the database first), which is where p95 falls.
 */
async function resetTables(pool: pg.Pool, schema: string): Promise<void> {
  for (let i = 0; i < TABLES; i++) {
    await pool.query(`DROP TABLE IF EXISTS ${schema}.t${i}`);
    await pool.query(
      `CREATE TABLE ${schema}.t${i} (id int PRIMARY KEY, name text NOT NULL, value int NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await pool.query(
      `INSERT INTO ${schema}.t${i} (id, name, value) SELECT g, 'row ' || g, 0 FROM generate_series(1, ${ROWS}) g`,
    );
    await pool.query(`ANALYZE ${schema}.t${i}`);
  }
  // Warm the pool's connections and PostgreSQL's buffers; not measured.
  await Promise.all(
    Array.from({ length: 400 }, (_, i) =>
      pool.query(`SELECT * FROM ${schema}.t${i % TABLES} WHERE id = $1`, [1 + (i % ROWS)]),
    ),
  );
}

/**
 * What PostgreSQL's active UPDATEs of tables in schemas named `schema…` wait on, sampled every
 * 20 ms from pg_stat_activity on a connection of its own: `wait_event_type:wait_event`, or
 * `running` for none. Counts per kind.
 */
function sampleWaits(probe: pg.Client, schema: string): () => Promise<Map<string, number>> {
  const waits = new Map<string, number>();
  let sampling = true;
  const loop = (async () => {
    while (sampling) {
      const { rows } = await probe.query<{ wait: string }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS wait FROM pg_stat_activity
         WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE $1`,
        [`UPDATE ${schema}%`],
      );
      for (const { wait } of rows) waits.set(wait, (waits.get(wait) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return async () => {
    sampling = false;
    await loop;
    return waits;
  };
}

/** The sampled waits as shares: the WAL flush, locks, running, the rest. */
function describeWaits(waits: ReadonlyMap<string, number>): string {
  const total = [...waits.values()].reduce((sum, n) => sum + n, 0);
  if (total === 0) return 'no active UPDATE sampled';
  const share = (match: (wait: string) => boolean) =>
    [...waits].filter(([wait]) => match(wait)).reduce((sum, [, n]) => sum + n, 0) / total;
  const wal = share((w) => w === 'IO:WALSync' || w.startsWith('LWLock:WAL') || w === 'IO:WALWrite');
  const lock = share((w) => w.startsWith('Lock:'));
  const running = share((w) => w === 'running');
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return `${total.toLocaleString('en-US')} samples of an active UPDATE: ${pct(wal)} waiting on the WAL (IO:WALSync, LWLock:WALWrite…), ${pct(lock)} on a lock (a row's, a transaction's), ${pct(running)} running, ${pct(1 - wal - lock - running)} other`;
}

const reduction = (queries: number, base: number) => (1 - queries / base) * 100;
const medianP95 = (runs: readonly RunResult[]): number =>
  percentile(
    runs.map((r) => r.p95).sort((a, b) => a - b),
    0.5,
  );
/** Each round's p95, in round order. */
const p95s = (runs: readonly RunResult[]): string => runs.map((r) => `${r.p95.toFixed(3)}`).join(', ');

const bench: BenchModule = {
  name: 'query-cache',
  aim: 'read-heavy SQL (90% reads, 10% writes, 10 tables): database load reduced by ≥ 80% (the seed claim), ≥ 90% of the perfect row-level ceiling, ≥ 60% with uniform writes; p95 with the query cache ≤ p95 without; a hit ≤ 0.5× the same point read on PostgreSQL',
  async run({ quick, log }): Promise<BenchResult> {
    const connectionString = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const count = quick ? 4_000 : 40_000;
    const schema = `strata_bench_qc_${process.pid}_${Date.now()}`;
    /** The copy of the tables PostgreSQL alone answers on in the open-loop runs, beside the cache's. */
    const baseSchema = `${schema}_alone`;
    const pool = new pg.Pool({ connectionString, max: CONCURRENCY + 2 });
    // PostgreSQL alone's side of the open-loop runs has connections of its own: sharing a pool,
    // each side's queries would queue behind the other's.
    const alonePool = new pg.Pool({ connectionString, max: CONCURRENCY + 2 });
    // Samples what the open-loop runs' UPDATEs wait on, outside the pool the runs use.
    const probe = new pg.Client({ connectionString });
    const manifest = defineManifest({ version: 1, routes: [{ match: '/x', policy: serverCache(60) }] });
    const tables = Object.fromEntries(Array.from({ length: TABLES }, (_, i) => [`${schema}.t${i}`, { ttl: TTL }]));
    const notes: string[] = [];
    /** One line per workload, printed before the per-run notes. */
    const described: string[] = [];
    const done: WorkloadResult[] = [];
    const redis = await startRedisServer();
    try {
      log(`  schema ${schema}: ${TABLES} tables × ${ROWS} rows`);
      await probe.connect();
      await pool.query(`CREATE SCHEMA ${schema}`);
      await pool.query(`CREATE SCHEMA ${baseSchema}`);
      const driver = postgresDriver(pool);

      for (const [w, spec] of WORKLOADS.entries()) {
        const ops = workload(count, spec.writes);
        const reads = ops.filter((o) => o.kind !== 'write').length;
        const writes = count - reads;
        const done1: WorkloadResult = { name: spec.name, ops, ceiling: ceiling(ops), results: [], hits: [] };
        const baseline = counting(driver);
        await resetTables(pool, schema);
        log(`  ${spec.name}, A: PostgreSQL directly, ${count.toLocaleString('en-US')} ops`);
        const [alone] = await execute(
          [{ label: `${spec.prefix}no query cache`, runner: baseline, db: baseline, schema }],
          ops,
          log,
        );
        done1.results.push(alone as RunResult);

        // The Redis variant is the deployment as shipped: Redis store and purge log, so the
        // in-process L1 answers hot results (two tiers).
        const variants: { label: string; store: () => Store; bus?: () => Bus }[] = [
          { label: `${spec.prefix}query cache, memory store`, store: () => memoryStore() },
          {
            label: `${spec.prefix}query cache, redis store`,
            store: () => redisStore({ url: redis.url, prefix: `qcbench${w}` }),
            bus: () => redisBus({ url: redis.url, stream: `qcbench${w}:purges` }),
          },
        ];
        for (const variant of variants) {
          await resetTables(pool, schema);
          log(`  ${variant.label}, ${count.toLocaleString('en-US')} ops`);
          const db = counting(driver);
          const strata = createStrata({
            manifest,
            store: variant.store(),
            ...(variant.bus ? { bus: variant.bus() } : {}),
            resilience: { timeoutMs: 10_000 },
          });
          try {
            const qc = await queryCache(strata, db, { tables });
            const [result] = (await execute([{ label: variant.label, runner: qc, db, schema }], ops, log)) as [
              RunResult,
            ];
            for (const line of result.stale) log(`  STALE READ (${variant.label}): ${line}`);
            const stats = qc.stats();
            if (stats.refused > 0)
              throw new Error(`${variant.label}: ${stats.refused} statements refused by the parser`);
            log(`    ${variant.label}: sweeping rows against PostgreSQL, then timing one hit alone`);
            const checked = await sweep(variant.label, qc, pool, schema);
            // The cost of one hit, alone: the same cached point read, sequentially, against PostgreSQL's answer.
            const hitMs = await perCall(() => qc.query(`SELECT * FROM ${schema}.t0 WHERE id = $1`, [1]));
            const directMs = await perCall(() => driver.query(`SELECT * FROM ${schema}.t0 WHERE id = $1`, [1]));
            done1.results.push(result);
            done1.hits.push({ label: variant.label, hitMs, directMs });
            const ratio = stats.hits / Math.max(1, stats.hits + stats.misses);
            // stats() keeps the 1,000 most recent queries only: the database count gives the true ratio.
            const readsIssued = reads + result.verified;
            const readsServed = readsIssued - (result.dbQueries - writes);
            notes.push(
              `${variant.label}: hit ratio ${((readsServed / readsIssued) * 100).toFixed(1)}% of ${readsIssued.toLocaleString('en-US')} reads (from the PostgreSQL count); qc.stats() says ${(ratio * 100).toFixed(1)}% (${stats.hits.toLocaleString('en-US')} hits, ${stats.misses.toLocaleString('en-US')} misses over the ${stats.cached} queries it still tracks); ${result.verified} read-after-write checks (${result.stale.length} stale) and ${checked} rows swept against PostgreSQL (none stale); one hit alone ${hitMs.toFixed(3)} ms vs ${directMs.toFixed(3)} ms for the same query on PostgreSQL (sequential), ${(hitMs / directMs).toFixed(2)}×.`,
            );
          } finally {
            await strata.close();
          }
        }
        // At equal offered load, on the same arrivals: PostgreSQL alone on one copy of the tables and
        // the query cache on another, the same ops due on both at the same moments.
        const rate = Math.round(((done1.results[0] as RunResult).opsPerSec * PACED_SHARE) / 100) * 100;
        const paced: NonNullable<WorkloadResult['paced']> = { rate, base: [], memory: [], waits: '' };
        const stopSampling = sampleWaits(probe, schema);
        const rounds = quick ? 1 : PACED_ROUNDS;
        for (let round = 1; round <= rounds; round++) {
          await resetTables(pool, schema);
          await resetTables(alonePool, baseSchema);
          const suffix = `open loop${rounds > 1 ? ` (round ${round})` : ''}`;
          log(`  ${spec.prefix}open loop at ${rate.toLocaleString('en-US')} ops/s on each side, round ${round}`);
          const pacedStrata = createStrata({ manifest, store: memoryStore() });
          try {
            const db = counting(driver);
            const qc = await queryCache(pacedStrata, db, { tables });
            const [base, memory] = (await execute(
              [
                {
                  label: `${spec.prefix}no query cache, ${suffix}`,
                  runner: baseline,
                  db: baseline,
                  schema: baseSchema,
                },
                { label: `${spec.prefix}query cache, memory store, ${suffix}`, runner: qc, db, schema },
              ],
              ops,
              log,
              rate,
            )) as [RunResult, RunResult];
            for (const line of [...base.stale, ...memory.stale]) log(`  STALE READ (open loop): ${line}`);
            paced.base.push(base);
            paced.memory.push(memory);
          } finally {
            await pacedStrata.close();
          }
        }
        paced.waits = describeWaits(await stopSampling());
        done1.paced = paced;
        done.push(done1);
        const base = done1.results[0] as RunResult;
        const ceilingCut = reduction(done1.ceiling, base.dbQueries);
        described.push(
          `Workload ${w + 1}, ${spec.name}: ${count.toLocaleString('en-US')} ops from a seeded PRNG, ${reads.toLocaleString('en-US')} reads (point reads with Zipf(1) ids over ${ROWS} rows, 1 in 9 a 20-row page) and ${writes.toLocaleString('en-US')} ${spec.describe}, over ${TABLES} tables, ${CONCURRENCY} in flight; every ${VERIFY_EVERY}th write is followed by a read of its row. Ceiling (perfect row-level invalidation, no expiry: writes, first reads, reads of a row after a write to it, page reads after a write to the table): ${done1.ceiling.toLocaleString('en-US')} queries, ${ceilingCut.toFixed(1)}% fewer than the baseline's ${base.dbQueries.toLocaleString('en-US')}.`,
        );
        for (const r of done1.results) {
          const cut = reduction(r.dbQueries, base.dbQueries);
          notes.push(
            `${r.label}: p50 ${r.p50.toFixed(3)} ms, p95 ${r.p95.toFixed(3)} ms per op (p50 point read ${r.byKind.point.toFixed(3)}, page ${r.byKind.list.toFixed(3)}, write ${r.byKind.write.toFixed(3)} ms; an UPDATE took ${r.updateMs.toFixed(3)} ms in PostgreSQL on average, with ${r.overlap.toFixed(2)} others in flight as it began; this process's event loop busy ${(r.busy * 100).toFixed(0)}% of the run); ${r.dbQueries.toLocaleString('en-US')} queries reached PostgreSQL${r === base ? '' : ` (${cut.toFixed(1)}% fewer, ${((cut / ceilingCut) * 100).toFixed(1)}% of the ceiling's ${ceilingCut.toFixed(1)}%; the seed claims ${SEED_CLAIM}%)`}.`,
          );
        }
        if (done1.paced) {
          notes.push(`${spec.prefix}open loop, ${done1.paced.base.length} round(s): ${done1.paced.waits}.`);
          for (const r of [...done1.paced.base, ...done1.paced.memory]) {
            notes.push(
              `${r.label} (${done1.paced.rate.toLocaleString('en-US')} ops/s offered, ${r.opsPerSec.toFixed(0)} done): p50 ${r.p50.toFixed(3)} ms, p95 ${r.p95.toFixed(3)} ms per op from when it was due (p50 point read ${r.byKind.point.toFixed(3)}, page ${r.byKind.list.toFixed(3)}, write ${r.byKind.write.toFixed(3)} ms; an UPDATE took ${r.updateMs.toFixed(3)} ms in PostgreSQL on average, with ${r.overlap.toFixed(2)} others in flight as it began).`,
            );
          }
        }
      }
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pool.query(`DROP SCHEMA IF EXISTS ${baseSchema} CASCADE`).catch(() => {});
      await pool.end();
      await alonePool.end();
      await probe.end().catch(() => {});
      await redis.stop();
    }
    notes.unshift(...described);
    notes.unshift(
      `Same sequence in every run of a workload, each on freshly filled and analyzed tables (a run’s UPDATEs leave dead row versions that would slow the next run’s); each cached run starts cold, TTL 60 s. Every cached query carries its table tag; a point read carries its row tag, a page its table list tag; an UPDATE by id purges that row and the list tag. PostgreSQL and redis-server on loopback. p95 falls among the UPDATEs (10% of the ops), and an UPDATE's time is mostly PostgreSQL's WAL flush at commit (sampled below). Each run gives the mean time PostgreSQL took per UPDATE and how many others were in flight as it began. Closed loop (8 in flight), the cached run answers its reads at once and each worker issues its next op straight away: more of the 8 wait on UPDATEs at any moment than without the cache (they queue behind each other's flushes), and this process runs flat out on hits, so PostgreSQL's answers wait behind that work (each run gives the share of time its event loop was busy). Its p95 then measures the load the driver generates, not the cache: the closed-loop p95 is given, the aim is judged at equal offered load. Open loop: two copies of the tables, one read by PostgreSQL alone and one through the cache, get the same ops due at the same moments, side by side (each side offered ${PACED_SHARE * 100}% of the rate PostgreSQL alone sustained closed loop, each on connections of its own), each op timed from when it was due, in ${quick ? 1 : PACED_ROUNDS} round(s) per workload; a WAL flush stalling on the disk moves a run's p95 tenfold, and side by side a stall falls on both sides; the aim compares the medians over the rounds.`,
    );

    const rows: Row[] = done.flatMap((d) => {
      const base = d.results[0] as RunResult;
      return d.results.map((r) =>
        r === base
          ? { label: r.label, opsPerSec: r.opsPerSec }
          : { label: r.label, opsPerSec: r.opsPerSec, baseline: base.label },
      );
    });
    const all = done.flatMap((d) => (d.paced ? [...d.results, ...d.paced.base, ...d.paced.memory] : d.results));
    const staleReads = all.reduce((sum, r) => sum + r.stale.length, 0);
    const cachedOf = (d: WorkloadResult) => d.results.slice(1);
    const baseOf = (d: WorkloadResult) => d.results[0] as RunResult;
    const share = (d: WorkloadResult, r: RunResult) =>
      (reduction(r.dbQueries, baseOf(d).dbQueries) / reduction(d.ceiling, baseOf(d).dbQueries)) * 100;
    const today = done[0] as WorkloadResult;
    const uniform = done[1] as WorkloadResult;
    const aims = [
      {
        aim: 'no stale read: a read issued after a write answered sees that write',
        met: staleReads === 0,
        measured: all.map((r) => `${r.label} ${r.stale.length} of ${r.verified}`).join(', '),
      },
      {
        aim: `database load reduced by ≥ ${SEED_CLAIM}% (the seed's claim), every cached variant of today's workload`,
        met: cachedOf(today).every((r) => reduction(r.dbQueries, baseOf(today).dbQueries) >= SEED_CLAIM),
        measured: cachedOf(today)
          .map((r) => `${r.label} ${reduction(r.dbQueries, baseOf(today).dbQueries).toFixed(1)}%`)
          .join(', '),
      },
      {
        aim: 'the cache reaches ≥ 90% of the ceiling (perfect row-level invalidation), every workload and store',
        met: done.every((d) => cachedOf(d).every((r) => share(d, r) >= 90)),
        measured: done.flatMap((d) => cachedOf(d).map((r) => `${r.label} ${share(d, r).toFixed(1)}%`)).join(', '),
      },
      {
        aim: 'uniform writes: database load ≥ 60% lower than without the cache, every store',
        met: cachedOf(uniform).every((r) => reduction(r.dbQueries, baseOf(uniform).dbQueries) >= 60),
        measured: cachedOf(uniform)
          .map((r) => `${r.label} ${reduction(r.dbQueries, baseOf(uniform).dbQueries).toFixed(1)}%`)
          .join(', '),
      },
      {
        aim: `p95 with the query cache (memory store) ≤ p95 without, every workload, at equal offered load (open loop, side by side; the median of ${quick ? 1 : PACED_ROUNDS} round(s))`,
        met: done.every((d) => d.paced !== undefined && medianP95(d.paced.memory) <= medianP95(d.paced.base)),
        measured: done
          .flatMap((d) =>
            d.paced
              ? [
                  `${d.name}: ${medianP95(d.paced.memory).toFixed(3)} ms with the cache (${p95s(d.paced.memory)}) vs ${medianP95(d.paced.base).toFixed(3)} ms without (${p95s(d.paced.base)}), at ${d.paced.rate.toLocaleString('en-US')} ops/s`,
                ]
              : [],
          )
          .join('; '),
      },
      {
        aim: 'a hit ≤ 0.5× the same point read on PostgreSQL (memory store; Redis store with the in-process L1)',
        met: done.every((d) => d.hits.every((h) => h.hitMs <= 0.5 * h.directMs)),
        measured: done.flatMap((d) => d.hits.map((h) => `${h.label} ${(h.hitMs / h.directMs).toFixed(2)}×`)).join(', '),
      },
    ];
    if (staleReads > 0) {
      // A stale read fails the bench: print what was measured first, then stop the run.
      log(`\n${renderTable(rows)}\n`);
      for (const line of notes) log(line);
      for (const a of aims) log(`${a.met ? 'aim met' : 'aim NOT met'}: ${a.aim} (measured ${a.measured})`);
      throw new Error(`${staleReads} stale read(s) after a write through the query cache: see STALE READ lines above`);
    }
    const chart = {
      title: `Queries reaching PostgreSQL over ${count.toLocaleString('en-US')} ops (lower is better; the seed claims ≥ ${SEED_CLAIM}% fewer)`,
      unit: 'queries',
      groups: done.map((d) => ({
        label: d.name,
        bars: [
          ...d.results.map((r, i) => ({
            series: i === 0 ? 'no query cache (baseline)' : (r.label.split(': ').at(-1) as string),
            value: r.dbQueries,
          })),
          // Computed, not measured: perfect row-level invalidation without expiry.
          { series: 'ceiling (perfect row-level invalidation)', value: d.ceiling },
          // Not measured: where the seed's claim would put a cached run, for reference.
          {
            series: `the seed's claim (${SEED_CLAIM}% fewer than the baseline)`,
            value: baseOf(d).dbQueries * (1 - SEED_CLAIM / 100),
          },
        ],
      })),
    };
    return { rows, notes, aims, chart };
  },
};

export default bench;
