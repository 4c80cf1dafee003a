/**
 * Purge latency across instances: the time from `strata.purge()` on instance A (this process) to
 * the purge event arriving at 1, 100 and 1,000 SSE clients of instance B (its own process),
 * through a real Redis (its own process) — the clients in yet another process. Beside it, in the
 * same run, the floor any Redis-based channel stands on: a bare Pub/Sub message from a publisher
 * here to a subscriber in its own process.
 *
 * Latency = arrival (clients' process) − t0 (here, just before `purge()`), both as
 * `performance.timeOrigin + performance.now()`: epoch ms, comparable across processes on one
 * machine; the offset between the clocks is estimated (Redis ping-pong) and reported. Every
 * client must receive every purge id exactly once and in order, or the benchmark fails.
 */
import os from 'node:os';
import { defineManifest, serverCache } from '@strata/policy';
import { createStrata, type Strata } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { type Child, startFixture } from './lib/child.js';
import { bounded } from './lib/fixture.js';
import {
  type ClockOffset,
  clockOffset,
  count,
  fmtMs as fmt,
  epochNow as now,
  type Summary,
  sleep,
  summarize,
} from './lib/latency.js';
import { AIM_MS, BASELINE, pubSubPair, type Redis, WARMUP } from './lib/purge-timing.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const INSTANCE = 'bench/fixtures/purge-instance.ts';
const CLIENTS = 'bench/fixtures/sse-clients.ts';
const STREAM = 'bench:purges';
const PREFIX = 'bench';
const SIZES = [1, 100, 1_000];
/** Pause after every purge has reached every client, before the next: each purge meets an idle system. */
const GAP_MS = 10;
/** Longest wait for one purge to reach every client before the run is declared broken. */
const ARRIVAL_TIMEOUT_MS = 10_000;

// ---- the clients' reports (JSON lines on their stdout) ----------------------------------------

type Report =
  | { type: 'event'; id: string; data: string; base: number; d: number[] }
  | { type: 'pubsub'; seq: number; t: number }
  | {
      type: 'summary';
      clients: number;
      minReceived: number;
      maxReceived: number;
      events: number;
      reported: number;
      errors: number;
    }
  | { type: 'error'; message: string };

/** Reads one fixture's report lines; the first `error` line (or its exit) fails every later wait. */
class Reports {
  readonly #queue: Report[] = [];
  #partial = '';
  #failure: Error | undefined;
  #waiter: { resolve: (report: Report) => void; reject: (error: Error) => void } | undefined;

  constructor(
    readonly child: Child,
    readonly name: string,
  ) {
    child.process.stdout?.on('data', (chunk: Buffer) => this.#onData(chunk.toString()));
    child.process.once('exit', (code, signal) => this.#fail(new Error(`${name} exited (${code ?? signal})`)));
  }

  #onData(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue; // READY
      let report: Report;
      try {
        report = JSON.parse(line) as Report;
      } catch {
        this.#fail(new Error(`${this.name}: unreadable report ${line.slice(0, 200)}`));
        continue;
      }
      if (report.type === 'error') {
        this.#fail(new Error(`${this.name}: ${report.message}`));
        continue;
      }
      if (this.#waiter) {
        const { resolve } = this.#waiter;
        this.#waiter = undefined;
        resolve(report);
      } else this.#queue.push(report);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }

  /** The next report, in order; rejects after `timeoutMs` or on the fixture's first error. */
  next(what: string, timeoutMs: number): Promise<Report> {
    if (this.#failure) return Promise.reject(this.#failure);
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Report>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`${this.name}: no report within ${timeoutMs} ms while waiting for ${what}`));
      }, timeoutMs);
      this.#waiter = {
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  /** Reports received but not consumed: a correct run leaves none. */
  get pending(): readonly Report[] {
    return this.#queue;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }
}

/**
 * Stops a fixture, bounded in time. `Child.stop()` waits for an 'exit' that already happened when
 * the process was killed by a signal (its exitCode stays null), so a dead child is skipped here.
 */
function stopChild(child: Child): Promise<void> {
  const { process: proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return bounded(child.stop(), 5_000, () => proc.kill('SIGKILL'));
}

async function startClients(redisUrl: string, channel: string, eventsUrl: string, n: number): Promise<Reports> {
  const child = await startFixture(CLIENTS, [redisUrl, channel, eventsUrl, String(n)], 60_000);
  if (child.port !== n) {
    await stopChild(child);
    throw new Error(`${CLIENTS} reported ${child.port} clients ready, expected ${n}`);
  }
  return new Reports(child, `clients(${count(n)})`);
}

// ---- measurements -----------------------------------------------------------------------------

/**
 * Offset of the fixture's clock from ours (its time − ours), NTP-style over Redis Pub/Sub: ping
 * at t0, it stamps t1 on receipt, its pong arrives at t2; offset = t1 − (t0 + t2) / 2, from the
 * sample with the shortest round trip (uncertainty ± half of it).
 */
async function pubsubClockOffset(pub: Redis, sub: Redis, channel: string): Promise<ClockOffset> {
  let pending: ((seq: number, t1: number, t2: number) => void) | undefined;
  await sub.subscribe(`${channel}:pong`, (message: string) => {
    const t2 = now();
    const [seq, t1] = message.split(' ').map(Number);
    pending?.(seq as number, t1 as number, t2);
  });
  try {
    return await clockOffset(async (i) => {
      const pong = new Promise<[number, number]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no pong from ${channel} within 5 s`)), 5_000);
        pending = (seq, t1, t2) => {
          if (seq !== i) return;
          clearTimeout(timer);
          resolve([t1, t2]);
        };
      });
      const t0 = now();
      await pub.publish(`${channel}:ping`, String(i));
      const [theirs, t2] = await pong;
      return { t0, theirs, t2 };
    });
  } finally {
    pending = undefined;
    await sub.unsubscribe(`${channel}:pong`);
  }
}

/** The baseline: PUBLISH a sequence number here, its arrival stamped by the subscriber in its own process. */
async function pubsubLatencies(pub: Redis, listener: Reports, channel: string, from: number, n: number) {
  const latencies: number[] = [];
  for (let seq = from; seq < from + n; seq++) {
    const t0 = now();
    const receivers = await pub.publish(`${channel}:pubsub`, String(seq));
    if (receivers !== 1) throw new Error(`pub/sub baseline: ${receivers} subscribers received message ${seq}, not 1`);
    const report = await listener.next(`pub/sub message ${seq}`, ARRIVAL_TIMEOUT_MS);
    if (report.type !== 'pubsub' || report.seq !== seq) {
      throw new Error(`pub/sub baseline: expected message ${seq}, got ${JSON.stringify(report).slice(0, 200)}`);
    }
    const latency = report.t - t0;
    if (latency < 0) throw new Error(`pub/sub baseline: negative latency ${latency} ms: the clocks disagree`);
    latencies.push(latency);
    await sleep(GAP_MS);
  }
  return latencies;
}

interface SizeResult {
  /** Every (purge, client) pair. */
  all: Summary;
  /** Per purge, the last client to receive it. */
  last: Summary;
  /** Per purge, the first client to receive it. */
  first: Summary;
  purges: number;
  clock: ClockOffset;
}

let purgeSeq = 0;

/**
 * One purge through A, checked against what the clients received: the k-th report of the clients
 * must be this purge's id, received by every client, with its tag. Returns per-client latencies.
 */
async function purgeOnce(strata: Strata, clients: Reports, size: number): Promise<Float64Array> {
  const tag = `bench:purge-${++purgeSeq}`;
  const t0 = now();
  const result = await strata.purge({ tags: [tag] });
  if (result.queued) throw new Error(`purge ${tag} was queued (${result.id}): Redis unreachable, nothing to measure`);
  const report = await clients.next(`purge ${result.id}`, ARRIVAL_TIMEOUT_MS);
  if (report.type !== 'event')
    throw new Error(`expected purge ${result.id}, got ${JSON.stringify(report).slice(0, 200)}`);
  if (report.id !== result.id) {
    throw new Error(`clients received ${report.id} where purge ${result.id} was next: a purge was missed or reordered`);
  }
  if (report.d.length !== size) throw new Error(`purge ${result.id} reached ${report.d.length} clients, not ${size}`);
  const data = JSON.parse(report.data) as { tags?: unknown };
  if (!Array.isArray(data.tags) || data.tags.length !== 1 || data.tags[0] !== tag) {
    throw new Error(`purge ${result.id} arrived with data ${report.data}, expected the tag ${tag}`);
  }
  const latencies = Float64Array.from(report.d, (d) => report.base + d - t0);
  for (const latency of latencies) {
    if (!(latency >= 0)) throw new Error(`purge ${result.id}: latency ${latency} ms (clock offset or bad report)`);
  }
  return latencies;
}

async function measureSize(
  strata: Strata,
  pub: Redis,
  sub: Redis,
  redisUrl: string,
  eventsUrl: string,
  size: number,
  rounds: number,
  log: (line: string) => void,
): Promise<SizeResult> {
  log(`  ${count(size)} client(s): connecting`);
  const t = performance.now();
  const channel = `bench:clients-${size}`;
  const clients = await startClients(redisUrl, channel, eventsUrl, size);
  try {
    log(`  ${count(size)} client(s): connected in ${((performance.now() - t) / 1_000).toFixed(1)} s`);
    const clock = await pubsubClockOffset(pub, sub, channel);
    for (let i = 0; i < WARMUP; i++) {
      await purgeOnce(strata, clients, size);
      await sleep(GAP_MS);
    }
    const all: number[] = [];
    const last: number[] = [];
    const first: number[] = [];
    const progressEvery = Math.max(1, Math.floor(rounds / 4));
    for (let r = 1; r <= rounds; r++) {
      const latencies = await purgeOnce(strata, clients, size);
      let min = Number.POSITIVE_INFINITY;
      let max = 0;
      for (const latency of latencies) {
        all.push(latency);
        if (latency < min) min = latency;
        if (latency > max) max = latency;
      }
      first.push(min);
      last.push(max);
      if (r % progressEvery === 0 || r === rounds) {
        const so = summarize(all);
        log(`    purge ${r}/${rounds}: so far p50 ${fmt(so.p50)} ms, p99 ${fmt(so.p99)} ms`);
      }
      await sleep(GAP_MS);
    }
    // Nothing more may arrive: no client got an extra, repeated or partial event.
    await sleep(200);
    await pub.publish(`${channel}:ctl`, 'summary');
    const summary = await clients.next('the summary', ARRIVAL_TIMEOUT_MS);
    const expected = WARMUP + rounds;
    if (
      summary.type !== 'summary' ||
      summary.clients !== size ||
      summary.minReceived !== expected ||
      summary.maxReceived !== expected ||
      summary.events !== expected ||
      summary.reported !== expected ||
      summary.errors !== 0
    ) {
      throw new Error(
        `${count(size)} client(s): expected every client to receive exactly ${expected} purges, got ${JSON.stringify(summary).slice(0, 300)}`,
      );
    }
    if (clients.pending.length > 0) throw new Error(`${count(size)} client(s): unexpected reports after the run`);
    return { all: summarize(all), last: summarize(last), first: summarize(first), purges: rounds, clock };
  } finally {
    await stopChild(clients.child);
  }
}

/** Runs every cleanup step (last started, first stopped), each bounded in time, whatever happens. */
async function cleanUp(steps: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of steps.reverse()) {
    await bounded(Promise.resolve().then(step), 5_000);
  }
}

const bench: BenchModule = {
  name: 'purge-latency',
  aim: `a purge on instance A reaches 1,000 SSE clients of instance B through Redis with p99 ≤ ${AIM_MS} ms; p50/p99 at 1, 100 and 1,000 clients beside a bare Redis Pub/Sub message`,
  async run({ quick, log }): Promise<BenchResult> {
    const rounds = quick ? 50 : 200;
    const baselineHalf = rounds / 2;
    const load = [os.loadavg()];
    const steps: (() => Promise<unknown>)[] = [];
    const results = new Map<number, SizeResult>();
    let baseline: Summary;
    let baselineClock: ClockOffset;
    try {
      const redis = await startRedisServer();
      steps.push(() => redis.stop());
      const { pub, sub } = await pubSubPair(redis.url, (close) => steps.push(close));

      log('  starting instance B (its own process) and the Pub/Sub subscriber (its own process)');
      const [startedB, startedListener] = await Promise.allSettled([
        startFixture(INSTANCE, [redis.url, STREAM, PREFIX]),
        startClients(redis.url, 'bench:pubsub', '-', 0),
      ]);
      if (startedB.status === 'fulfilled') steps.push(() => stopChild(startedB.value));
      if (startedListener.status === 'fulfilled') steps.push(() => stopChild(startedListener.value.child));
      if (startedB.status === 'rejected') throw startedB.reason;
      if (startedListener.status === 'rejected') throw startedListener.reason;
      const instanceB = startedB.value;
      const listener = startedListener.value;
      const eventsUrl = `http://127.0.0.1:${instanceB.port}/strata/events`;

      const manifest = defineManifest({ version: 1, routes: [{ match: '/api/:id', policy: serverCache(60) }] });
      const strata = createStrata({
        manifest,
        store: redisStore({ url: redis.url, prefix: PREFIX }),
        bus: redisBus({ url: redis.url, stream: STREAM }),
      });
      steps.push(() => strata.close());

      baselineClock = await pubsubClockOffset(pub, sub, 'bench:pubsub');
      await pubsubLatencies(pub, listener, 'bench:pubsub', -WARMUP, WARMUP); // warm-up
      // The baseline in two halves, before and after the SSE sizes, so drift in load weighs on both.
      const pubsub = await pubsubLatencies(pub, listener, 'bench:pubsub', 0, baselineHalf);
      log(`  ${BASELINE}: p50 ${fmt(summarize(pubsub).p50)} ms (first ${baselineHalf} messages)`);

      for (const size of SIZES) {
        const result = await measureSize(strata, pub, sub, redis.url, eventsUrl, size, rounds, log);
        results.set(size, result);
        log(
          `  ${count(size)} client(s): p50 ${fmt(result.all.p50)} ms, p99 ${fmt(result.all.p99)} ms, last client p99 ${fmt(result.last.p99)} ms`,
        );
      }

      pubsub.push(...(await pubsubLatencies(pub, listener, 'bench:pubsub', baselineHalf, baselineHalf)));
      baseline = summarize(pubsub);
      log(`  ${BASELINE}: p50 ${fmt(baseline.p50)} ms, p99 ${fmt(baseline.p99)} ms (${baseline.n} messages)`);
      if (listener.failure) throw listener.failure;
      if (listener.pending.length > 0) throw new Error('pub/sub subscriber: unexpected reports after the run');
    } finally {
      await cleanUp(steps);
    }
    load.push(os.loadavg());

    const rows: Row[] = [{ label: BASELINE, opsPerSec: 1_000 / baseline.p50, spread: baseline.spread }];
    const notes = [
      `ops/s = 1000 / p50 latency in ms (the table is ops/s based; the latencies are below). Latency = arrival at a client − t0 just before \`strata.purge()\` on instance A; instance B, the clients and redis-server each in their own process, on loopback.`,
      `${rounds} purges per size after ${WARMUP} warm-up ones, each awaited at every client, then ${GAP_MS} ms of pause; p50/p99 over all (purge, client) pairs. Every client received every purge id exactly once, in order (checked).`,
      `${BASELINE}: PUBLISH from this process, received by a subscriber in its own process: p50 ${fmt(baseline.p50)} ms, p99 ${fmt(baseline.p99)} ms over ${baseline.n} messages (half before, half after the SSE runs).`,
    ];
    for (const size of SIZES) {
      const result = results.get(size) as SizeResult;
      const label = `strata purge → ${count(size)} SSE client${size === 1 ? '' : 's'}`;
      rows.push({ label, opsPerSec: 1_000 / result.all.p50, spread: result.all.spread, baseline: BASELINE });
      notes.push(
        `${count(size)} client(s): p50 ${fmt(result.all.p50)} ms, p99 ${fmt(result.all.p99)} ms (max ${fmt(result.all.max)}) over ${count(result.all.n)} pairs; ` +
          `first client p50 ${fmt(result.first.p50)} ms; last client p50 ${fmt(result.last.p50)} ms, p99 ${fmt(result.last.p99)} ms; ` +
          `p99 vs pub/sub p99: ${formatRatio(result.all.p99 / baseline.p99)}.`,
      );
    }
    const offsets = [
      `pub/sub subscriber ${fmt(baselineClock.offset)} ms (±${fmt(baselineClock.rtt / 2)})`,
      ...SIZES.map((size) => {
        const { clock } = results.get(size) as SizeResult;
        return `${count(size)} clients ${fmt(clock.offset)} ms (±${fmt(clock.rtt / 2)})`;
      }),
    ];
    notes.push(
      `Clock offsets of the receiving processes (estimated over Redis ping-pong, not corrected): ${offsets.join(', ')}.`,
    );
    const loadText = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
    notes.push(
      `Load average (1/5/15 min) at start ${loadText(load[0] ?? [])}, at end ${loadText(load[1] ?? [])}, on ${os.cpus().length} cores.`,
    );

    const top = results.get(1_000) as SizeResult;
    const latencyBars = (summary: Summary) => [
      { series: 'p50', value: summary.p50 },
      { series: 'p99', value: summary.p99 },
    ];
    return {
      rows,
      notes,
      chart: {
        title: `Purge on A → event at B's SSE clients, latency (lower is better; aim p99 ≤ ${AIM_MS} ms at 1,000)`,
        unit: 'ms',
        groups: [
          { label: 'bare redis pub/sub (baseline)', bars: latencyBars(baseline) },
          ...SIZES.map((size) => ({
            label: `${count(size)} SSE client${size === 1 ? '' : 's'}`,
            bars: latencyBars((results.get(size) as SizeResult).all),
          })),
        ],
      },
      aims: [
        {
          aim: `p99 ≤ ${AIM_MS} ms from purge() on A to the event at 1,000 SSE clients of B`,
          met: top.all.p99 <= AIM_MS,
          measured: `p99 ${fmt(top.all.p99)} ms over every (purge, client) pair; p99 ${fmt(top.last.p99)} ms until the last client has it; ${formatRatio(top.all.p99 / baseline.p99)} the pub/sub p99`,
        },
      ],
    };
  },
};

export default bench;
