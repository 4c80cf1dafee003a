import { createStrata, type Store } from '@strata/server';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeEntry, ENTRY_FORMAT } from '../../src/cache/entry.js';
import { manifest, origin } from '../origin.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The entry frame: 4-byte big-endian header length, the header as JSON, then the body. */
function frame(header: object, body: Uint8Array): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.byteLength + body.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength);
  out.set(json, 4);
  out.set(body, 4 + json.byteLength);
  return out;
}

/**
 * `bytes` (an entry in this build's format) re-framed with its header's `v` set to `version`,
 * the rest of the header and the body kept: what another build's instance could have written.
 */
export function inFormat(bytes: Uint8Array, version: number): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + length))) as Record<string, unknown>;
  return frame({ ...header, v: version }, bytes.subarray(4 + length));
}

/** A header of a layout this build has never seen, under another format version. */
export function foreignLayout(version: number, body: string): Uint8Array {
  return frame({ v: version, layout: 'future', fields: [1, 2, 3] }, encoder.encode(body));
}

/** The one entry key `store` holds (the test's only cached request or value). */
async function onlyKey(store: Store): Promise<string> {
  const keys = await store.keys('*', 10);
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

const OTHER_FORMATS = [ENTRY_FORMAT + 1, ENTRY_FORMAT - 1];

/**
 * Entries of another format version in `makeStore()`'s store (a rolling deploy sharing it):
 * `handle` and `cached` treat them as misses, never as corrupt and never served, and overwrite
 * them with this build's format.
 */
export function entryFormatSuite(name: string, makeStore: () => Store): void {
  const instances: ReturnType<typeof createStrata>[] = [];
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((strata) => strata.close()));
  });
  const make = async () => {
    const store = makeStore();
    const strata = createStrata({ manifest, store });
    instances.push(strata);
    await store.read('connected', []); // a store that connects lazily is connected before the first request
    return { store, strata };
  };

  describe(`entries of another format version in ${name}`, () => {
    for (const version of OTHER_FORMATS) {
      it(`handle: an entry of format ${version} is a miss, not corrupt, and is overwritten`, async () => {
        const { store, strata } = await make();
        const app = origin();
        const request = () => new Request('http://app.test/api/users/1');
        expect(await (await strata.handle(request(), app)).text()).toBe('body 1');
        const key = await onlyKey(store);
        const { value } = await store.read(key, []);
        await store.write(key, inFormat(value as Uint8Array, version), 60, []);

        const after = await strata.handle(request(), app);
        expect(after.headers.get('x-cache')).toBe('MISS');
        expect(await after.text()).toBe('body 2');
        expect(app.calls).toBe(2);
        expect((await strata.stats()).corruptEntries).toBe(0);

        const stored = await store.read(key, []);
        expect(decoder.decode(decodeEntry(stored.value as Uint8Array)?.body)).toBe('body 2');
        const hit = await strata.handle(request(), app);
        expect(hit.headers.get('x-cache')).toBe('HIT');
        expect(await hit.text()).toBe('body 2');
        expect(app.calls).toBe(2);
      });
    }

    it('handle: a header of an unknown layout under another version is a miss, not garbage', async () => {
      const { store, strata } = await make();
      const app = origin();
      await strata.handle(new Request('http://app.test/api/files/a'), app);
      const key = await onlyKey(store);
      await store.write(key, foreignLayout(ENTRY_FORMAT + 1, 'from another build'), 60, []);
      const after = await strata.handle(new Request('http://app.test/api/files/a'), app);
      expect([after.status, after.headers.get('x-cache'), await after.text()]).toEqual([200, 'MISS', 'body 2']);
      expect((await strata.stats()).corruptEntries).toBe(0);
    });

    for (const version of OTHER_FORMATS) {
      it(`cached: a value of format ${version} is a miss, not corrupt, and is overwritten`, async () => {
        const { store, strata } = await make();
        let calls = 0;
        const load = async () => ({ n: ++calls });
        expect(await strata.cached('q', load, { ttl: 60, tags: ['t'] })).toEqual({ n: 1 });
        const key = await onlyKey(store);
        const { value } = await store.read(key, []);
        await store.write(key, inFormat(value as Uint8Array, version), 60, ['t']);

        expect(await strata.cached('q', load, { ttl: 60, tags: ['t'] })).toEqual({ n: 2 });
        expect((await strata.stats()).corruptEntries).toBe(0);
        expect(decodeEntry((await store.read(key, [])).value as Uint8Array)).toBeDefined();
        expect(await strata.cached('q', load, { ttl: 60, tags: ['t'] })).toEqual({ n: 2 });
        expect(calls).toBe(2);
      });
    }
  });
}
