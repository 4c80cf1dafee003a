/**
 * The reads right after a purge, on a real Redis: a burst of concurrent requests for a purged
 * entry whose origin takes 20 ms. After a hard purge (the baseline) they wait for the origin;
 * after a soft purge they are answered stale from the store while one refresh runs. Both make one
 * origin call per burst (single flight), which the benchmark checks. A burst of plain hits is the
 * third case: what a soft-purged read costs over a hit (the store's soft-mark lookup).
 */
import { defineManifest, serverCache } from '@strata/policy';
import { createStrata } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { median } from './lib/latency.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const ORIGIN_MS = 20;
const BURST = 50;

const bench: BenchModule = {
  name: 'soft-purge',
  aim: 'after a soft purge, a burst of reads of the purged entry is answered sooner than after a hard purge (one origin call either way), and within 3× of a burst of hits',
  async run({ quick, log }): Promise<BenchResult> {
    const rounds = quick ? 10 : 40;
    const redis = await startRedisServer();
    const manifest = defineManifest({
      version: 1,
      routes: [{ match: '/catalog', policy: serverCache(60, { tags: ['catalog'], staleWhileRevalidate: 60 }) }],
    });
    const strata = createStrata({ manifest, store: redisStore({ url: redis.url, prefix: 'soft-bench' }) });
    let calls = 0;
    const origin = async () => {
      calls++;
      await new Promise((resolve) => setTimeout(resolve, ORIGIN_MS));
      return new Response(JSON.stringify({ items: calls }), { headers: { 'content-type': 'application/json' } });
    };
    const get = () => strata.handle(new Request('http://bench.test/catalog'), origin);
    const burstMs = { hard: [] as number[], soft: [] as number[], hits: [] as number[] };
    const burst = async () => {
      const t0 = performance.now();
      const answers = await Promise.all(Array.from({ length: BURST }, get));
      const ms = performance.now() - t0;
      await Promise.all(answers.map((a) => a.body?.cancel()));
      return { ms, answers };
    };
    try {
      for (let r = 0; r < rounds; r++) {
        for (const mode of ['hard', 'soft'] as const) {
          // A fresh entry first: read until the store answers it.
          while ((await get()).headers.get('x-cache') !== 'HIT') await new Promise((resolve) => setTimeout(resolve, 5));
          const hits = await burst();
          if (hits.answers.some((a) => a.headers.get('x-cache') !== 'HIT')) throw new Error('a burst of hits missed');
          burstMs.hits.push(hits.ms);
          await strata.purge({ tags: ['catalog'], mode });
          const before = calls;
          const { ms, answers } = await burst();
          burstMs[mode].push(ms);
          const expected = mode === 'soft' ? 'STALE' : 'MISS';
          if (answers.some((a) => a.headers.get('x-cache') !== expected)) {
            throw new Error(`a ${mode} purge's burst was not answered ${expected}: the comparison would be unfair`);
          }
          // Wait for the soft purge's background refresh, so every burst makes exactly one call.
          while (calls === before) await new Promise((resolve) => setTimeout(resolve, 1));
          if (calls !== before + 1)
            throw new Error(`a ${mode} purge's burst made ${calls - before} origin calls, not 1`);
        }
      }
    } finally {
      await strata.close();
      await redis.stop();
    }
    const [hard, soft, hit] = [median(burstMs.hard), median(burstMs.soft), median(burstMs.hits)];
    log(`  a burst of ${BURST}: hard ${hard.toFixed(2)} ms, soft ${soft.toFixed(2)} ms, hits ${hit.toFixed(2)} ms`);
    const label = (what: string) => `${what}, then ${BURST} concurrent reads`;
    const rows: Row[] = [
      { label: label('hard purge'), opsPerSec: 1_000 / hard },
      { label: label('soft purge'), opsPerSec: 1_000 / soft, baseline: label('hard purge') },
      { label: label('no purge (hits)'), opsPerSec: 1_000 / hit, baseline: label('soft purge') },
    ];
    const sooner = hard / soft;
    const overHits = soft / hit;
    return {
      rows,
      notes: [
        `ops/s = bursts answered per second (the reciprocal of the time until all ${BURST} reads are answered; median of ${rounds} bursts per case); origin ${ORIGIN_MS} ms; real redis-server on loopback; one origin call per purge in both modes.`,
      ],
      aims: [
        {
          aim: 'soft purge: burst answered sooner than after a hard purge',
          met: sooner > 1,
          measured: `${formatRatio(sooner)} sooner`,
        },
        {
          aim: 'soft purge: burst within 3× of a burst of hits',
          met: overHits <= 3,
          measured: `${formatRatio(overHits)} a burst of hits`,
        },
      ],
    };
  },
};

export default bench;
