import { createStrata, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { heapAfterGc as collect } from './helpers/heap.js';
import { countMapCalls } from './helpers/map-calls.js';
import { get, manifest, origin } from './origin.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('memoryStore tag bookkeeping is bounded by the store’s limits', () => {
  it('100,000 unique URLs keep the counters and the heap bounded', async () => {
    const maxEntries = 1_000;
    const store = memoryStore({ maxEntries });
    const write = async (i: number) => {
      const url = `http://demo.test/api/v1/users?page=1&nonce=${i.toString(36).padStart(12, 'x')}`;
      await store.write(`GET ${url}`, bytes('{"users":[]}'), 60, [`url:${url}`, 'users']);
    };
    for (let i = 0; i < 5_000; i++) await write(i);
    const before = collect();
    for (let i = 5_000; i < 100_000; i++) await write(i);
    const after = collect();

    const book = store.tagBookkeeping();
    expect(book.counters).toBeLessThanOrEqual(2 * maxEntries + 1_024);
    expect((await store.size()).entries).toBe(maxEntries);
    // 95,000 more counters kept would be well over 10 MB of heap; bounded, the heap stays put.
    expect(after - before).toBeLessThan(4 * 1024 * 1024);
    await store.close();
  }, 30_000);

  it('5,000 unique query strings through handle keep the counters within the store’s limits', async () => {
    const store = memoryStore({ maxEntries: 100 });
    const strata = createStrata({ manifest, store });
    const app = origin();
    for (let i = 0; i < 5_000; i++) await (await strata.handle(get(`/api/users?nonce=${i}`), app)).arrayBuffer();
    expect(app.calls).toBe(5_000);
    expect((await store.size()).entries).toBe(100);
    expect(store.tagBookkeeping().counters).toBeLessThanOrEqual(2 * 100 + 1_024);
    // …and a purge still reaches what is stored.
    expect((await strata.handle(get('/api/users?nonce=4999'), app)).headers.get('x-cache')).toBe('HIT');
    await strata.purge({ tags: ['users'] });
    expect((await strata.handle(get('/api/users?nonce=4999'), app)).headers.get('x-cache')).toBe('MISS');
    await strata.close();
  }, 30_000);

  it('long tag names are bounded in characters by maxBytes', async () => {
    const store = memoryStore({ maxBytes: 1024 * 1024 });
    const long = 'x'.repeat(1_000);
    for (let i = 0; i < 1_000; i++) await store.write(`k${i}`, bytes('v'), 60, [`${long}${i}`]);
    const book = store.tagBookkeeping();
    expect(book.chars).toBeLessThanOrEqual((1024 * 1024) / 8);
    expect(book.counters).toBeLessThan(1_000);
    await store.close();
  });

  it('a purge invalidates an entry whose counter was evicted and then recreated', async () => {
    const store = memoryStore({ maxEntries: 10 }); // at most 1,044 counters
    // `user:1` is purged once; an entry is then written under its version 1.
    expect(await store.bump(['user:1'])).toEqual([1]);
    const [written] = await store.versions(['user:1']);
    await store.write('GET /users/1', bytes('v1'), 3_600, ['user:1']);
    // Other tags push the counter out (written to one other key: the entry itself stays).
    for (let i = 0; i < 2_000; i++) await store.write('GET /other', bytes('o'), 60, [`other:${i}`]);
    expect(store.tagBookkeeping().counters).toBeLessThanOrEqual(1_044);
    // Still valid until purged: the evicted version folded into the floor.
    expect(await store.versions(['user:1'])).toEqual([written]);
    // The purge recreates the counter above every version handed out before: the entry,
    // written under version 1, can never match again.
    const [purged] = await store.bump(['user:1']);
    expect(purged).toBeGreaterThan(written as number);
    const read = await store.read('GET /users/1', ['user:1']);
    expect(read.value).toEqual(bytes('v1')); // the entry is alive: only its version keeps it out
    expect(read.versions[0]).not.toBe(written);
    await store.close();
  });

  it('an expired counter leaves the floor alone', async () => {
    let clock = 0;
    const store = memoryStore({ maxEntries: 1, tagGraceSeconds: 1, now: () => clock });
    for (let i = 0; i < 5; i++) await store.bump(['gone']);
    clock += 2_000;
    for (let i = 0; i < 2_000; i++) await store.write(`k${i}`, bytes('v'), 60, [`t${i}`]);
    expect(store.tagBookkeeping().floor).toBe(0);
    await store.close();
  });

  it('a full store reads and writes with work per operation that does not grow with its size', async () => {
    // V8 keeps a deleted Map slot until the table is rebuilt: a counter deleted and set again on
    // every read, or an eviction that iterates from the front, walks every such slot, O(size) per
    // operation once the counters are full. Map calls on tag names are counted, not timed.
    const maxEntries = 10_000; // 21,024 counters at most
    const store = memoryStore({ maxEntries });
    const key = (i: number) => `GET /api/users?page=${i}`;
    const write = (i: number) => store.write(key(i), bytes('[]'), 60, [`url:${i}`, 'users']);
    for (let i = 0; i < 30_000; i++) await write(i);
    expect(store.tagBookkeeping().counters).toBe(2 * maxEntries + 1_024);
    const tagMap = (map: Map<unknown, unknown>, tag?: unknown) =>
      map.size > maxEntries && (tag === undefined || tag === 'users' || String(tag).startsWith('url:'));

    const reads = await countMapCalls(async () => {
      for (let i = 20_000; i < 30_000; i++) await store.read(key(i), [`url:${i}`, 'users']);
    }, tagMap);
    expect(reads).toEqual({ set: 0, delete: 0, iterations: 0 });

    // Each write adds its own tag's counter and evicts the least recently used one; `users`,
    // touched by every write, stays.
    const writes = await countMapCalls(async () => {
      for (let i = 30_000; i < 40_000; i++) await write(i);
    }, tagMap);
    expect(writes).toEqual({ set: 10_000, delete: 10_000, iterations: 0 });
    expect(store.tagBookkeeping()).toMatchObject({ counters: 2 * maxEntries + 1_024, floor: 0 });
    await store.close();
  }, 30_000);
});
