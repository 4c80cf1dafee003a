import { memoryStore, type Store } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { createClient } from 'redis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { keyNamespace } from '../helpers/key-namespace.js';
import { bytes, storeContract, text } from '../helpers/store-contract.js';
import { redisUrlForTests } from '../helpers/use-services.js';

storeContract('memoryStore', (options) => memoryStore(options));

describe('memoryStore bounds', () => {
  it('maxBytes bounds the stored bytes, evicting the least recently used', async () => {
    const store = memoryStore({ maxBytes: 10_000 });
    for (let i = 0; i < 10; i++) await store.write(`k${i}`, new Uint8Array(1_000).fill(i), 60, []);
    expect(await store.size()).toEqual({ entries: 10, bytes: 10_000 });
    await store.read('k0', []); // k0 becomes the most recently used: k1 goes first
    for (let i = 10; i < 15; i++) await store.write(`k${i}`, new Uint8Array(1_000).fill(i), 60, []);
    const size = await store.size();
    expect(size.bytes).toBeLessThanOrEqual(10_000);
    expect(size.entries).toBe(10);
    expect((await store.read('k0', [])).value?.[0]).toBe(0);
    for (const gone of ['k1', 'k2', 'k3', 'k4', 'k5']) expect((await store.read(gone, [])).value).toBeUndefined();
    expect((await store.read('k14', [])).value?.[0]).toBe(14);
    await store.close();
  });

  it('a value larger than maxBytes is not stored, and evicts nothing', async () => {
    const store = memoryStore({ maxBytes: 1_000 });
    await store.write('small', new Uint8Array(500), 60, []);
    await store.write('huge', new Uint8Array(1_001), 60, []);
    expect((await store.read('huge', [])).value).toBeUndefined();
    expect((await store.read('small', [])).value?.byteLength).toBe(500);
    expect((await store.size()).bytes).toBeLessThanOrEqual(1_000);
    await store.close();
  });

  it('maxEntries bounds the entry count', async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await store.write(key, bytes(key), 60, []);
    expect((await store.size()).entries).toBe(3);
    expect((await store.read('a', [])).value).toBeUndefined();
    expect(text((await store.read('d', [])).value)).toBe('d');
    await store.close();
  });
});

// ---------------------------------------------------------------------------------------------

const redisUrl = redisUrlForTests();
const keys = keyNamespace('contract');
const nextPrefix = keys.next;

afterAll(() => keys.unlinkAll(redisUrl()));

storeContract('redisStore', (options) => redisStore({ url: redisUrl(), prefix: nextPrefix(), ...options }));

describe('redisStore specifics', () => {
  const opened: Store[] = [];
  const open = (options: { prefix?: string; maxValueBytes?: number } = {}) => {
    const store = redisStore({ url: redisUrl(), prefix: options.prefix ?? nextPrefix(), ...options });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  it('a value larger than maxValueBytes is not stored; one at the limit is', async () => {
    const store = open({ maxValueBytes: 1024 });
    await store.write('at-limit', new Uint8Array(1024).fill(7), 60, []);
    await store.write('over', new Uint8Array(1025).fill(8), 60, ['t']);
    expect((await store.read('at-limit', [])).value?.byteLength).toBe(1024);
    expect((await store.read('over', [])).value).toBeUndefined();
    expect((await store.size()).entries).toBe(1);
  });

  it('loads its scripts again when the server has dropped them (SCRIPT FLUSH)', async () => {
    const store = open();
    await store.write('k', bytes('before'), 60, ['a', 'b']);
    expect(await store.bump(['a', 'b', 'c'])).toEqual([1, 1, 1]);
    const admin = createClient({ url: redisUrl() });
    await admin.connect();
    try {
      await admin.scriptFlush();
    } finally {
      await admin.close();
    }
    await store.write('k', bytes('after'), 60, ['a', 'b']);
    expect(await store.bump(['b', 'c'])).toEqual([2, 2]);
    expect(await store.read('k', ['a', 'b', 'c', 'never'])).toEqual({ value: bytes('after'), versions: [1, 2, 2, 0] });
  });

  it('instances with one prefix share entries and tag versions', async () => {
    const prefix = nextPrefix();
    const a = open({ prefix });
    const b = open({ prefix });
    await a.write('shared', bytes('from a'), 60, ['t']);
    expect(await b.read('shared', ['t'])).toEqual({ value: bytes('from a'), versions: [0] });
    await a.bump(['t']);
    expect(await b.versions(['t'])).toEqual([1]);
  });

  it('instances with different prefixes never see, list or clear each other’s entries', async () => {
    const base = nextPrefix();
    const one = open({ prefix: `${base}-1` });
    const ten = open({ prefix: `${base}-10` });
    await one.write('k', bytes('one'), 60, []);
    await ten.write('k', bytes('ten'), 60, []);
    await one.bump(['t']);
    expect(text((await ten.read('k', [])).value)).toBe('ten');
    expect(await ten.versions(['t'])).toEqual([0]);
    await one.clear();
    expect((await one.read('k', [])).value).toBeUndefined();
    expect(text((await ten.read('k', [])).value)).toBe('ten');
    expect(await ten.keys('*', 10)).toEqual(['k']);
    expect((await ten.size()).entries).toBe(1);
  });

  it('a prefix holding glob characters is matched literally by keys, clear and size', async () => {
    const base = nextPrefix();
    const bracketed = open({ prefix: `${base}[1]` });
    const plain = open({ prefix: `${base}1` });
    await bracketed.write('mine', bytes('bracketed'), 60, []);
    await plain.write('theirs', bytes('plain'), 60, []);
    expect(await bracketed.keys('*', 10)).toEqual(['mine']);
    expect((await bracketed.size()).entries).toBe(1);
    await bracketed.clear();
    expect((await bracketed.read('mine', [])).value).toBeUndefined();
    expect(text((await plain.read('theirs', [])).value)).toBe('plain');
  });
});
