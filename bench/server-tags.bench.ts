/**
 * Invalidating one tag that covers 10, 10,000 and 100,000 entries in a real Redis: Strata's
 * per-tag version counter (one INCR) against the common design that keeps a Redis set per tag
 * and deletes its members.
 */
import { defineManifest, serverCache } from '@strata/policy';
import { createStrata } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { createClient } from 'redis';
import { encodeEntry } from '../packages/server/src/cache/entry.js';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { chartBySize } from './lib/chart.js';
import { median } from './lib/latency.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const TAG = 'catalog';
const BODY = new TextEncoder().encode(JSON.stringify({ id: 1, name: 'widget', price: 9.5 }));

async function inBatches(count: number, size: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += size) {
    await Promise.all(Array.from({ length: Math.min(size, count - start) }, (_, j) => fn(start + j)));
  }
}

const bench: BenchModule = {
  name: 'server-tags',
  aim: 'invalidating a tag costs the same for 10 and 100,000 entries (flat, within 2×); ratio against a set-per-tag baseline at 100,000',
  async run({ quick, log }): Promise<BenchResult> {
    const sizes = [10, 10_000, 100_000];
    const purgeRounds = quick ? 10 : 50;
    const naiveRounds = quick ? 1 : 3;
    const redis = await startRedisServer();
    const raw = createClient({ url: redis.url });
    await raw.connect();
    const manifest = defineManifest({ version: 1, routes: [{ match: '/x', policy: serverCache(60) }] });
    const strata = createStrata({
      manifest,
      store: redisStore({ url: redis.url, prefix: 'bench' }),
      resilience: { timeoutMs: 10_000 },
    });
    const rows: Row[] = [];
    const notes: string[] = [];
    const strataMs = new Map<number, number>();
    const naiveMs = new Map<number, number>();
    try {
      for (const size of sizes) {
        // Strata: entries stored with the tag at its current version, as the data cache stores them.
        const tag = `${TAG}-${size}`;
        const version = Number((await raw.get(`bench:t:${tag}`)) ?? 0);
        const entry = encodeEntry({
          status: 200,
          fields: [],
          etag: null,
          body: BODY,
          storedAt: Date.now(),
          age: 0,
          ttl: 600,
          swr: 0,
          sie: 0,
          tags: { [tag]: version },
        });
        log(`  filling ${size.toLocaleString('en-US')} entries (strata)`);
        await inBatches(size, 2_000, (i) =>
          raw.set(`bench:e:data:item-${size}-${i}`, Buffer.from(entry), { PX: 600_000 }),
        );
        await raw.set(`bench:t:${tag}`, String(version), { PX: 1_200_000 });
        // Sanity: the entries are hits before the purge and misses after it.
        const sample = `item-${size}-${size - 1}`;
        const before = await strata.cached(sample, async () => 'reloaded', { tags: [tag], ttl: 600 });
        if (before === 'reloaded')
          throw new Error('filled entries are not seen as hits: the comparison would be unfair');
        const times: number[] = [];
        for (let r = 0; r < 5; r++) await strata.purge({ tags: [`warm-up-${r}`] }); // JIT and connection warm
        for (let r = 0; r < purgeRounds; r++) {
          const t0 = performance.now();
          await strata.purge({ tags: [tag] });
          times.push(performance.now() - t0);
        }
        const after = await strata.cached(sample, async () => 'reloaded', { tags: [tag], ttl: 600 });
        if (after !== 'reloaded') throw new Error('a purged entry was still served');
        strataMs.set(size, median(times));

        // Baseline: a set of member keys per tag; invalidation reads the set and deletes every member.
        const naive: number[] = [];
        for (let r = 0; r < naiveRounds; r++) {
          log(`  filling ${size.toLocaleString('en-US')} entries (set per tag), round ${r + 1}/${naiveRounds}`);
          await inBatches(size, 2_000, async (i) => {
            const key = `naive:e:item-${size}-${i}`;
            await Promise.all([raw.set(key, Buffer.from(BODY), { PX: 600_000 }), raw.sAdd(`naive:tag:${tag}`, key)]);
          });
          const t0 = performance.now();
          const members = await raw.sMembers(`naive:tag:${tag}`);
          for (let i = 0; i < members.length; i += 1_000) await raw.unlink(members.slice(i, i + 1_000));
          await raw.unlink(`naive:tag:${tag}`);
          naive.push(performance.now() - t0);
          if ((await raw.exists(`naive:e:item-${size}-0`)) !== 0) throw new Error('baseline left an entry behind');
        }
        naiveMs.set(size, median(naive));
        log(
          `  ${size.toLocaleString('en-US')} entries: strata ${strataMs.get(size)?.toFixed(3)} ms, set per tag ${naiveMs.get(size)?.toFixed(1)} ms`,
        );
        await raw.flushAll();
      }
    } finally {
      await strata.close();
      await raw.close();
      await redis.stop();
    }
    for (const size of sizes) {
      const label = `${size.toLocaleString('en-US')} entries`;
      rows.push({ label: `set per tag, ${label}`, opsPerSec: 1_000 / (naiveMs.get(size) as number) });
      rows.push({
        label: `strata, ${label}`,
        opsPerSec: 1_000 / (strataMs.get(size) as number),
        baseline: `set per tag, ${label}`,
      });
      notes.push(
        `${label}: strata ${(strataMs.get(size) as number).toFixed(3)} ms per purge, set per tag ${(naiveMs.get(size) as number).toFixed(1)} ms`,
      );
    }
    const flat = (strataMs.get(100_000) as number) / (strataMs.get(10) as number);
    const ratio = (naiveMs.get(100_000) as number) / (strataMs.get(100_000) as number);
    notes.unshift(
      `ops/s = tag invalidations per second (median of ${purgeRounds} purges; baseline median of ${naiveRounds}). Real redis-server on loopback.`,
    );
    return {
      rows,
      notes,
      chart: chartBySize(
        { title: 'Invalidating one tag, ms per purge by entries tagged (lower is better)', unit: 'ms', log: true },
        sizes,
        (size) => `${size.toLocaleString('en-US')} entries`,
        [
          { name: 'strata (tag version counter)', value: (size) => strataMs.get(size) as number },
          { name: 'set per tag (baseline)', value: (size) => naiveMs.get(size) as number },
        ],
      ),
      aims: [
        {
          aim: 'Strata flat: cost at 100,000 entries within 2× of 10 entries',
          met: flat <= 2,
          measured: `${formatRatio(flat)} the cost at 10`,
        },
        {
          aim: 'Strata faster than set-per-tag at 100,000 entries',
          met: ratio > 1,
          measured: `${formatRatio(ratio)} faster`,
        },
      ],
    };
  },
};

export default bench;
