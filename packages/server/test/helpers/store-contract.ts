import { randomBytes } from 'node:crypto';
import type { Store } from '@strata/server';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Options every implementation takes; the rest is implementation-specific and tested below. */
export interface ContractOptions {
  tagGraceSeconds?: number;
}
export type StoreFactory = (options: ContractOptions) => Store;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const bytes = (text: string) => encoder.encode(text);
export const text = (value: Uint8Array | undefined) => (value === undefined ? undefined : decoder.decode(value));
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array) =>
  a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/** Bounded polling: expiry is checked until it has happened, never by sleeping a fixed time. */
const eventually = { timeout: 5_000, interval: 15 };

/**
 * The one `Store` contract: every implementation must pass it unchanged. Each test opens its own
 * store (its own namespace on Redis) and closes it afterwards.
 */
export function storeContract(name: string, create: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const open = (options: ContractOptions = {}) => {
      const store = create(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    describe('entries', () => {
      it('reads a missing key as undefined, with version 0 for tags never bumped', async () => {
        const store = open();
        expect(await store.read('missing', ['never-bumped', 'other'])).toEqual({ value: undefined, versions: [0, 0] });
        expect(await store.read('missing', [])).toEqual({ value: undefined, versions: [] });
      });

      it('round-trips a value', async () => {
        const store = open();
        await store.write('GET http://app.test/a', bytes('hello'), 60, []);
        const read = await store.read('GET http://app.test/a', []);
        expect(read.value).toBeInstanceOf(Uint8Array);
        expect(text(read.value)).toBe('hello');
        expect(text((await store.read('GET http://app.test/b', [])).value)).toBeUndefined();
      });

      it('overwrites a value with a longer and then a shorter one', async () => {
        const store = open();
        await store.write('k', bytes('first'), 60, []);
        await store.write('k', bytes('second, longer'), 60, []);
        expect(text((await store.read('k', [])).value)).toBe('second, longer');
        await store.write('k', bytes('3'), 60, []);
        expect(text((await store.read('k', [])).value)).toBe('3');
      });

      it('deletes entries and counts only those that existed', async () => {
        const store = open();
        await store.write('a', bytes('A'), 60, []);
        await store.write('b', bytes('B'), 60, []);
        await store.write('c', bytes('C'), 60, []);
        expect(await store.delete(['a', 'b', 'missing'])).toBe(2);
        expect((await store.read('a', [])).value).toBeUndefined();
        expect((await store.read('b', [])).value).toBeUndefined();
        expect(text((await store.read('c', [])).value)).toBe('C');
        expect(await store.delete(['a'])).toBe(0);
        expect(await store.delete([])).toBe(0);
      });

      it('expires an entry after its TTL (fractional seconds), while a longer-lived one stays', async () => {
        const store = open();
        await store.write('short', bytes('s'), 0.15, []);
        await store.write('long', bytes('l'), 60, []);
        expect(text((await store.read('short', [])).value)).toBe('s');
        await vi.waitFor(async () => expect((await store.read('short', [])).value).toBeUndefined(), eventually);
        expect(await store.keys('*', 10)).toEqual(['long']);
        expect(text((await store.read('long', [])).value)).toBe('l');
      });
    });

    describe('tags', () => {
      it('start at version 0 and bump by one, per tag, returning the new versions', async () => {
        const store = open();
        expect(await store.versions(['a', 'b'])).toEqual([0, 0]);
        expect(await store.bump(['a'])).toEqual([1]);
        expect(await store.bump(['a', 'b'])).toEqual([2, 1]);
        expect(await store.versions(['b', 'a', 'c'])).toEqual([1, 2, 0]);
        expect(await store.bump([])).toEqual([]);
      });

      it('read returns the entry and the current versions of its tags, in the order asked, in one call', async () => {
        const store = open();
        await store.bump(['users']);
        await store.bump(['user:1', 'users']);
        await store.write('k', bytes('v'), 60, ['users', 'user:1']);
        const read = await store.read('k', ['user:1', 'users', 'unrelated']);
        expect(text(read.value)).toBe('v');
        expect(read.versions).toEqual([1, 2, 0]);
      });

      it('a write keeps the current version: it never resets or raises a counter', async () => {
        const store = open();
        await store.bump(['t']);
        await store.bump(['t']);
        await store.write('k', bytes('v'), 60, ['t', 'fresh']);
        expect(await store.versions(['t', 'fresh'])).toEqual([2, 0]);
      });

      it('bump leaves entries in place: the cache above compares versions', async () => {
        const store = open();
        await store.write('k', bytes('v'), 60, ['t']);
        expect(await store.bump(['t'])).toEqual([1]);
        expect(await store.read('k', ['t'])).toEqual({ value: bytes('v'), versions: [1] });
      });

      it('a counter created by bump alone expires after the grace period', async () => {
        const store = open({ tagGraceSeconds: 0.2 });
        expect(await store.bump(['lonely'])).toEqual([1]);
        expect(await store.versions(['lonely'])).toEqual([1]);
        await vi.waitFor(async () => expect(await store.versions(['lonely'])).toEqual([0]), eventually);
      });

      it('a counter lives as long as the entries written under it, then expires with them', async () => {
        const store = open({ tagGraceSeconds: 0.2 });
        const value = bytes('tagged');
        // The entry is stored under version 0 of `t`; the bump then invalidates it.
        await store.write('k', value, 0.6, ['t']);
        expect(await store.bump(['t', 'solo'])).toEqual([1, 1]);
        // `solo` only had the grace period; `t` must outlive its entry, or the entry, stored
        // under version 0, would match again once the counter fell back to 0.
        await vi.waitFor(async () => expect(await store.versions(['solo'])).toEqual([0]), eventually);
        expect(await store.read('k', ['t'])).toEqual({ value, versions: [1] });
        await vi.waitFor(async () => {
          const read = await store.read('k', ['t']);
          if (read.versions[0] === 0) expect(read.value, 'counter reset while its entry lives').toBeUndefined();
          expect(read.versions).toEqual([0]);
        }, eventually);
      });
    });

    describe('soft purges (softBump, softMarks)', () => {
      it('a soft bump counts like a bump and records when it made the version', async () => {
        const store = open();
        expect(await store.bump(['t'])).toEqual([1]);
        expect(await store.softBump?.(['t', 'u'], 1_000)).toEqual([2, 1]);
        expect(await store.versions(['t', 'u'])).toEqual([2, 1]);
        expect(await store.softMarks?.(['t', 'u'], [1, 0], [2, 1])).toEqual([1_000, 1_000]);
        // Versions a soft bump did not make, or a range that starts before the soft run: no mark.
        expect(await store.softMarks?.(['t', 't', 'never'], [0, 2, 0], [2, 3, 1])).toEqual([0, 0, 0]);
      });

      it('soft bumps in a row make a run dated from its first; a hard bump ends it', async () => {
        const store = open();
        await store.softBump?.(['t'], 1_000);
        await store.softBump?.(['t'], 2_000);
        expect(await store.softMarks?.(['t', 't'], [0, 1], [2, 2])).toEqual([1_000, 2_000]);
        await store.bump(['t']);
        expect(await store.softMarks?.(['t', 't'], [0, 2], [3, 3])).toEqual([0, 0]);
        await store.softBump?.(['t'], 4_000);
        expect(await store.softMarks?.(['t', 't'], [3, 2], [4, 4])).toEqual([4_000, 0]);
      });
    });

    describe('concurrency', () => {
      it('200 concurrent bumps of one tag end at exactly 200, each seeing a distinct version', async () => {
        const store = open();
        const results = await Promise.all(Array.from({ length: 200 }, () => store.bump(['hot'])));
        const seen = results.map((versions) => versions[0]).sort((a, b) => (a ?? 0) - (b ?? 0));
        expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        expect(await store.versions(['hot'])).toEqual([200]);
      });

      it('concurrent writes and reads of many keys stay consistent', async () => {
        const store = open();
        const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
        await Promise.all(keys.map((key) => store.write(key, bytes(`value of ${key}`), 60, ['all'])));
        const reads = await Promise.all(keys.map((key) => store.read(key, ['all'])));
        expect(reads.map((read) => text(read.value))).toEqual(keys.map((key) => `value of ${key}`));
        expect(reads.every((read) => read.versions[0] === 0)).toBe(true);
        expect((await store.size()).entries).toBe(300);
      });

      it('readers racing writers of one key see a whole value, never a torn one', async () => {
        const store = open();
        const values = Array.from({ length: 50 }, (_, i) =>
          bytes(`${i}:`.padEnd(4096, String.fromCharCode(65 + (i % 26)))),
        );
        const work = values.flatMap((value) => [
          store.write('contended', value, 60, []).then(() => undefined),
          store.read('contended', []).then((read) => read.value),
        ]);
        const seen = (await Promise.all(work)).filter((value) => value !== undefined);
        const written = new Set(values.map((value) => text(value)));
        for (const value of seen) expect(written.has(text(value) ?? '')).toBe(true);
        expect(written.has(text((await store.read('contended', [])).value) ?? '')).toBe(true);
      });
    });

    describe('binary bodies', () => {
      it('stores every byte value 0–255 exactly', async () => {
        const store = open();
        const every = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
        await store.write('bytes', every, 60, []);
        const read = (await store.read('bytes', [])).value;
        expect(read?.byteLength).toBe(512);
        expect(sameBytes(read, every)).toBe(true);
      });

      it('round-trips a random 5 MiB value byte-exact', async () => {
        const store = open();
        const big = randomBytes(5 * 1024 * 1024);
        await store.write('big', new Uint8Array(big.buffer, big.byteOffset, big.byteLength), 60, []);
        const read = (await store.read('big', [])).value;
        expect(read?.byteLength).toBe(big.byteLength);
        expect(sameBytes(read, big)).toBe(true);
      });

      it('stores only the bytes of a view into a larger buffer', async () => {
        const store = open();
        const backing = Uint8Array.from({ length: 64 }, (_, i) => i);
        const view = backing.subarray(10, 20);
        await store.write('view', view, 60, []);
        const read = (await store.read('view', [])).value;
        expect(read === undefined ? undefined : [...read]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
      });
    });

    describe('keys, clear and size', () => {
      const stored = ['GET /a/1', 'GET /a/2', 'GET /a/10', 'GET /b/1', 'x[a]y', 'xay', 'x\\y', 'a.b', 'axb', 'a^b-c'];
      const fill = async (store: Store) => {
        for (const key of stored) await store.write(key, bytes(key), 60, []);
      };
      const sorted = (keys: string[]) => [...keys].sort();

      it('matches `*` and `?` globs', async () => {
        const store = open();
        await fill(store);
        expect(sorted(await store.keys('GET /a/*', 100))).toEqual(['GET /a/1', 'GET /a/10', 'GET /a/2']);
        expect(sorted(await store.keys('GET /?/1', 100))).toEqual(['GET /a/1', 'GET /b/1']);
        expect(sorted(await store.keys('GET /a/?', 100))).toEqual(['GET /a/1', 'GET /a/2']);
        expect(sorted(await store.keys('*', 100))).toEqual(sorted(stored));
        expect(await store.keys('GET /c/*', 100)).toEqual([]);
      });

      it('matches regex and Redis-glob special characters literally', async () => {
        const store = open();
        await fill(store);
        expect(await store.keys('x[a]y', 100)).toEqual(['x[a]y']);
        expect(await store.keys('x\\y', 100)).toEqual(['x\\y']);
        expect(await store.keys('x\\*', 100)).toEqual(['x\\y']);
        expect(await store.keys('a.b', 100)).toEqual(['a.b']);
        expect(await store.keys('a^b-c', 100)).toEqual(['a^b-c']);
        expect(sorted(await store.keys('x?y', 100))).toEqual(['x\\y', 'xay']);
      });

      it('matches patterns with several stars, and long pathological ones, like before', async () => {
        const store = open();
        await fill(store);
        expect(sorted(await store.keys('*/*1*', 100))).toEqual(['GET /a/1', 'GET /a/10', 'GET /b/1']);
        expect(sorted(await store.keys('G*a*?', 100))).toEqual(['GET /a/1', 'GET /a/10', 'GET /a/2']);
        expect(sorted(await store.keys('*a*b*', 100))).toEqual(['a.b', 'a^b-c', 'axb']);
        const long = `GET /long/${'a'.repeat(8_192)}`;
        await store.write(long, bytes('long'), 60, []);
        expect(await store.keys(`*${'a'.repeat(1_022)}b`, 100)).toEqual([]);
        expect(await store.keys(`GET /long/*${'a'.repeat(1_000)}`, 100)).toEqual([long]);
      });

      it('honours the limit', async () => {
        const store = open();
        await fill(store);
        const two = await store.keys('*', 2);
        expect(two).toHaveLength(2);
        for (const key of two) expect(stored).toContain(key);
        expect(await store.keys('GET /a/*', 1)).toHaveLength(1);
        expect(await store.keys('*', 0)).toEqual([]);
      });

      it('clear removes every entry and keeps tag versions', async () => {
        const store = open();
        await fill(store);
        await store.bump(['kept']);
        await store.clear();
        expect(await store.keys('*', 100)).toEqual([]);
        expect((await store.read('GET /a/1', [])).value).toBeUndefined();
        expect((await store.size()).entries).toBe(0);
        // An entry written in flight under an old version must not match again: counters stay.
        expect(await store.versions(['kept'])).toEqual([1]);
        await store.write('after', bytes('x'), 60, []);
        expect(text((await store.read('after', [])).value)).toBe('x');
      });

      it('size counts entries, and bytes once something is stored', async () => {
        const store = open();
        expect((await store.size()).entries).toBe(0);
        await fill(store);
        const full = await store.size();
        expect(full.entries).toBe(stored.length);
        expect(full.bytes).toBeGreaterThan(0);
        await store.delete(['GET /a/1', 'GET /a/2']);
        expect((await store.size()).entries).toBe(stored.length - 2);
      });
    });
  });
}
