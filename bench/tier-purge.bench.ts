/**
 * Purge to another instance's L1: the time from `strata.purge()` on instance A to the moment
 * instance B's in-process tier stops answering the purged entry, through a real Redis (its own
 * process). Both instances run in this process, each with its own Redis connections, so the
 * purge crosses Redis exactly as between two servers; the event loop is idle while it travels.
 *
 * Per sample: B answers the entry from its L1 (checked in its stats), A purges the entry's tag,
 * and the time is taken when B's log reader hands the event to B's subscribers — the L1's
 * subscriber, registered first, has dropped the tag by then. B's next read is then checked not
 * to come from the L1, or the benchmark fails. Beside it, in the same run, the floor any
 * Redis-based channel stands on: a bare Pub/Sub message between two connections of this process.
 */
import { defineManifest, serverCache } from '@strata/policy';
import { type Bus, createStrata, type Strata } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { createClient } from 'redis';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { epochNow, fmtMs, type Summary, sleep, summarize } from './lib/latency.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const AIM_MS = 20;
const BASELINE = 'redis pub/sub (bare)';
const CASE = "purge → another instance's L1";
/** Pause between samples: each purge meets an idle system. */
const GAP_MS = 5;

const manifest = defineManifest({
  version: 1,
  routes: [{ match: '/api/items/:id', policy: serverCache(600, { tags: ['items', 'item:{id}'] }) }],
});
const origin = async () => new Response('{"id":1}', { headers: { 'content-type': 'application/json' } });
const get = () => new Request('http://bench.test/api/items/1');

/** Resolves with the time B's log delivers the next purge naming `tag`. */
function arrival(bus: Bus, tag: string): Promise<number> {
  return new Promise((resolve) => {
    const subscription = bus.subscribe(undefined, (event) => {
      if (!event.all && event.tags.includes(tag)) {
        const at = epochNow();
        subscription.close();
        resolve(at);
      }
    });
  });
}

async function l1Hits(strata: Strata): Promise<{ hits: number; misses: number }> {
  const tiers = (await strata.stats()).tiers;
  if (!tiers) throw new Error('instance B has no L1: the benchmark needs redisStore with redisBus');
  return tiers.l1;
}

async function purgeSamples(url: string, samples: number): Promise<number[]> {
  const make = (): { strata: Strata; bus: Bus } => {
    const bus = redisBus({ url, stream: 'bench:tier-purges' });
    return { strata: createStrata({ manifest, store: redisStore({ url, prefix: 'bench-tiers' }), bus }), bus };
  };
  const a = make();
  const b = make();
  try {
    const latencies: number[] = [];
    for (let i = 0; latencies.length < samples; i++) {
      // Until B answers from its L1 (the first read after a purge refills it from Redis).
      for (let tries = 0; ; tries++) {
        const before = await l1Hits(b.strata);
        const response = await b.strata.handle(get(), origin);
        await response.arrayBuffer();
        if ((await l1Hits(b.strata)).hits > before.hits) break;
        if (tries > 1_000) throw new Error('instance B never answered from its L1');
      }
      const arrived = arrival(b.bus, 'item:1');
      const t0 = epochNow();
      await a.strata.purge({ tags: ['item:1'] });
      const at = await arrived;
      const before = await l1Hits(b.strata);
      await (await b.strata.handle(get(), origin)).arrayBuffer();
      if ((await l1Hits(b.strata)).hits !== before.hits) throw new Error('B answered a purged entry from its L1');
      if (i >= 5) latencies.push(at - t0); // the first few warm the connections and the JIT
      await sleep(GAP_MS);
    }
    return latencies;
  } finally {
    await Promise.all([a.strata.close(), b.strata.close()]);
  }
}

/** A bare Pub/Sub message between two connections of this process: publish to receipt. */
async function pubSubSamples(url: string, samples: number): Promise<number[]> {
  const publisher = createClient({ url });
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.connect(), subscriber.connect()]);
  try {
    let received: (at: number) => void = () => {};
    await subscriber.subscribe('bench:tier-pubsub', () => received(epochNow()));
    const latencies: number[] = [];
    for (let i = 0; latencies.length < samples; i++) {
      const arrived = new Promise<number>((resolve) => {
        received = resolve;
      });
      const t0 = epochNow();
      await publisher.publish('bench:tier-pubsub', String(i));
      const at = await arrived;
      if (i >= 5) latencies.push(at - t0);
      await sleep(GAP_MS);
    }
    return latencies;
  } finally {
    await Promise.all([publisher.close(), subscriber.close()]);
  }
}

const bench: BenchModule = {
  name: 'tier-purge',
  aim: `a purge on one instance stops another instance's L1 from answering the entry within ${AIM_MS} ms (p99)`,
  async run({ quick, log }): Promise<BenchResult> {
    const samples = quick ? 100 : 1_000;
    const redis = await startRedisServer();
    let purge: Summary;
    let bare: Summary;
    try {
      bare = summarize(await pubSubSamples(redis.url, samples));
      log(`  ${BASELINE}: p50 ${fmtMs(bare.p50)} ms, p99 ${fmtMs(bare.p99)} ms`);
      purge = summarize(await purgeSamples(redis.url, samples));
      log(`  ${CASE}: p50 ${fmtMs(purge.p50)} ms, p99 ${fmtMs(purge.p99)} ms`);
    } finally {
      await redis.stop();
    }
    const rows: Row[] = [
      { label: BASELINE, opsPerSec: 1000 / bare.p50, spread: bare.spread },
      { label: CASE, opsPerSec: 1000 / purge.p50, spread: purge.spread, baseline: BASELINE },
    ];
    return {
      rows,
      chart: {
        title: "Purge to another instance's L1, ms (lower is better)",
        unit: 'ms',
        groups: [
          {
            label: 'p50',
            bars: [
              { series: BASELINE, value: bare.p50 },
              { series: CASE, value: purge.p50 },
            ],
          },
          {
            label: 'p99',
            bars: [
              { series: BASELINE, value: bare.p99 },
              { series: CASE, value: purge.p99 },
            ],
          },
        ],
      },
      notes: [
        `${samples} samples each, ${GAP_MS} ms apart; ops/s = 1 / median latency. Both instances in this process, Redis in its own.`,
        `${CASE}: p50 ${fmtMs(purge.p50)} ms, p95 ${fmtMs(purge.p95)} ms, p99 ${fmtMs(purge.p99)} ms, max ${fmtMs(purge.max)} ms (from the call to purge(): the tag bump, the XADD, and B's blocking XREAD).`,
        `${BASELINE}: p50 ${fmtMs(bare.p50)} ms, p99 ${fmtMs(bare.p99)} ms; the purge's p99 is ${formatRatio(purge.p99 / bare.p99)} the bare message's.`,
      ],
      aims: [{ aim: `p99 ≤ ${AIM_MS} ms`, met: purge.p99 <= AIM_MS, measured: `${fmtMs(purge.p99)} ms` }],
    };
  },
};

export default bench;
