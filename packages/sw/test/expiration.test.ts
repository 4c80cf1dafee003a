import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { Expiration } from '../src/expiration.js';
import { type EntryRecord, TagIndex } from '../src/tag-index.js';

// The index is real (on fake-indexeddb); evicting is a callback that deletes the records, the
// part Cache Storage plays in the worker (covered by the Chromium suites).
let n = 0;
async function setup(records: [cache: string, storedAt: number, expiresAt: number][]) {
  const index = new TagIndex(`expiration-test-${++n}`);
  for (const [i, [cache, storedAt, expiresAt]] of records.entries()) {
    const url = `https://x/${i}`;
    await index.put({
      id: `${cache} ${url}`,
      cache,
      key: url,
      url,
      path: url,
      tags: [],
      route: '/r',
      storedAt,
      expiresAt,
    });
  }
  const evicted: string[] = [];
  const evict = async (batch: EntryRecord[]) => {
    evicted.push(...batch.map((r) => r.url));
    await index.delete(batch.map((r) => r.id));
  };
  return { index, evicted, evict };
}

describe('Expiration', () => {
  it('evicts the entries no window can serve any more, and only those', async () => {
    const { index, evicted, evict } = await setup([
      ['a', 0, 100],
      ['a', 0, 200],
      ['b', 0, 300],
    ]);
    const expiration = new Expiration(index, { now: () => 250, caches: async () => ['a', 'b'], evict });
    expect(await expiration.run()).toBe(true);
    expect(evicted).toEqual(['https://x/0', 'https://x/1']);
    expect((await index.all()).map((r) => r.url)).toEqual(['https://x/2']);
  });

  it('keeps maxEntries per cache, evicting the oldest stored first', async () => {
    const { index, evicted, evict } = await setup([
      ['a', 30, 1e9],
      ['a', 10, 1e9],
      ['a', 20, 1e9],
      ['b', 5, 1e9],
    ]);
    const expiration = new Expiration(index, { maxEntries: 1, now: () => 0, caches: async () => ['a', 'b'], evict });
    await expiration.run();
    expect(evicted).toEqual(['https://x/1', 'https://x/2']);
  });

  it('a cleanup that fails once does not stop later cleanups (unlike Workbox’s stuck _isRunning)', async () => {
    const { index, evicted, evict } = await setup([['a', 0, 100]]);
    let failures = 1;
    const flaky = {
      expired: (now: number, limit: number) => {
        if (failures-- > 0) return Promise.reject(new DOMException('simulated IndexedDB failure', 'UnknownError'));
        return index.expired(now, limit);
      },
      beyond: index.beyond.bind(index),
    };
    const errors: unknown[] = [];
    const expiration = new Expiration(flaky, {
      now: () => 1000,
      caches: async () => ['a'],
      evict,
      onError: (error) => errors.push(error),
    });
    expect(await expiration.run()).toBe(false);
    expect(errors).toHaveLength(1);
    expect(evicted).toEqual([]);
    expect(await expiration.run()).toBe(true);
    expect(evicted).toEqual(['https://x/0']);
  });

  it('folds runs requested while one is going into one more pass', async () => {
    const { index, evict } = await setup([['a', 0, 100]]);
    let passes = 0;
    const counting = {
      expired: (now: number, limit: number) => {
        passes++;
        return index.expired(now, limit);
      },
      beyond: index.beyond.bind(index),
    };
    const expiration = new Expiration(counting, { now: () => 1000, caches: async () => [], evict });
    const runs = [expiration.run(), expiration.run(), expiration.run(), expiration.run()];
    expect(new Set(runs).size).toBe(1); // every caller joins the same run
    await Promise.all(runs);
    expect(passes).toBe(2); // the first pass and one more for the three requests made meanwhile
  });

  it('always ends a pass, even when evicting removes nothing', async () => {
    const records = Array.from({ length: 600 }, (): [string, number, number] => ['a', 0, 1]);
    const { index } = await setup(records);
    let calls = 0;
    const expiration = new Expiration(index, {
      now: () => 10,
      caches: async () => [],
      evict: async () => {
        calls++; // removes nothing: the same records come back every time
      },
    });
    expect(await expiration.run()).toBe(true);
    expect(calls).toBe(20);
  });
});
