import { defineManifest } from '@strata/policy';
import { createStrata, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';

/** Counts event-loop turns while `work` runs: a ticker that reschedules itself with setImmediate. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await work();
  running = false;
  return { result, turns };
}

const KEYS = 300;
const longKey = (i: number) => `GET http://demo.test/${String(i).padStart(4, '0')}/${'a'.repeat(8192)}`;

describe('pattern scans give the event loop back', () => {
  it('a pathological pattern over 300 keys of 8 KB yields between keys instead of holding the loop', async () => {
    const store = memoryStore({ maxEntries: 1_000, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < KEYS; i++) await store.write(longKey(i), new Uint8Array(1), 60, []);
    const { result, turns } = await turnsDuring(() => store.keys(`*${'a'.repeat(1022)}b`, 10_000));
    expect(result).toEqual([]);
    // Each key costs about 8,200 × 33 ≈ 270,000 steps, over the 100,000-step turn budget: the
    // scan yields after every key. Holding the loop, it would let the ticker run at most once.
    expect(turns).toBeGreaterThanOrEqual(KEYS - 1);
    await store.close();
  }, 30_000);

  it('an ordinary pattern finds the same keys, in few turns', async () => {
    const store = memoryStore();
    for (let i = 0; i < KEYS; i++) await store.write(longKey(i), new Uint8Array(1), 60, []);
    await store.write('GET http://demo.test/users/1', new Uint8Array(1), 60, []);
    const { result, turns } = await turnsDuring(() => store.keys('GET http://demo.test/001?/*', 10_000));
    expect(result.sort()).toEqual(Array.from({ length: 10 }, (_, i) => longKey(10 + i)).sort());
    expect(turns).toBeLessThan(20);
    await store.close();
  });

  it('a pattern purge through strata deletes what the pattern matches, yielding as it goes', async () => {
    const store = memoryStore({ maxEntries: 1_000 });
    const strata = createStrata({ manifest: defineManifest({ version: '1', routes: [] }), store });
    for (let i = 0; i < KEYS; i++) await store.write(longKey(i), new Uint8Array(1), 60, []);
    const { result, turns } = await turnsDuring(() => strata.purge({ pattern: `*${'a'.repeat(1000)}` }));
    expect(result.keys).toHaveLength(KEYS);
    expect((await store.size()).entries).toBe(0);
    expect(turns).toBeGreaterThanOrEqual(KEYS / 4);
    await strata.close();
  }, 30_000);
});
