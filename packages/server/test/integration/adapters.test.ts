import { createHash } from 'node:crypto';
import { defineManifest, serverCache } from '@strata/policy';
import { createStrata, type PartitionRequest, type Strata } from '@strata/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BINARY, HARNESSES, Origin, type Running } from './adapter-servers.js';

// Every adapter, each on a real server of its framework on loopback, driven by real fetch.

const manifest = defineManifest({
  version: 1,
  routes: [
    { match: '/items', policy: serverCache(60, { tags: ['items'], staleIfError: 300 }) },
    { match: '/feed', policy: serverCache(60, { staleWhileRevalidate: 30 }) },
    { match: '/mine', policy: serverCache(60, { scope: 'private' }) },
    { match: '/binary', policy: serverCache(60) },
    { match: '/cookies', policy: serverCache(60) },
    { match: '/boom', policy: serverCache(60) },
    { match: '/gone', policy: serverCache(60) },
  ],
});

/** Length and hash: a readable failure, and much faster than a deep equal of 200,000 elements. */
const digest = (bytes: ArrayBuffer | Uint8Array) => {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return `${view.byteLength}:${createHash('sha256').update(view).digest('hex')}`;
};

describe.each(HARNESSES)('$name adapter on a real server', (harness) => {
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const origin = new Origin();
  let strata: Strata;
  let server: Running;
  // The user is the bearer token; what `partition` was given tells which path answered.
  const partition = vi.fn((request: PartitionRequest) => request.headers.get('authorization')?.slice(7) || undefined);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.base}${path}`, { headers });
  /** Gets `path` twice, reading each body: the miss that stores it, then the hit. */
  const missThenHit = async (path: string) => {
    const miss = await get(path);
    await miss.arrayBuffer();
    const hit = await get(path);
    await hit.arrayBuffer();
    return { miss, hit };
  };
  /** Stores `path` (a miss), then moves the clock `ms` on; resolves the stored body. */
  const storedThenAged = async (path: string, ms: number) => {
    const first = await get(path);
    const body = await first.text();
    expect(first.headers.get('x-cache')).toBe('MISS');
    clock += ms;
    return body;
  };

  beforeAll(async () => {
    strata = createStrata({ manifest, now: () => clock, partition });
    server = await harness.start(strata, origin);
  });

  afterAll(async () => {
    await server?.close();
    await strata?.close();
  });

  it('a miss reaches the handler once and leaves with the policy headers', async () => {
    const res = await get('/items?case=miss');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ case: 'miss', version: 1 });
    expect(res.headers.get('x-cache')).toBe('MISS');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('etag')).toBeTruthy();
    expect(res.headers.get('age')).toBeNull();
    expect(origin.count('items:miss')).toBe(1);
  });

  it('a hit is served from the cache with Age, without calling the handler', async () => {
    const body = await storedThenAged('/items?case=hit', 5_000);

    const res = await get('/items?case=hit');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('HIT');
    expect(res.headers.get('age')).toBe('5');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(await res.text()).toBe(body);
    expect(origin.count('items:hit')).toBe(1);
  });

  it('a private hit answers only its own partition, named and varied, on the fast path where the adapter has one', async () => {
    const as = (user?: string) => get('/mine?case=private', user ? { authorization: `Bearer ${user}` } : {});
    const first = await as('alice');
    expect([first.headers.get('x-cache'), await first.json()]).toEqual(['MISS', { case: 'private', version: 1 }]);
    partition.mockClear();
    const hit = await as('alice');
    expect([hit.headers.get('x-cache'), await hit.json()]).toEqual(['HIT', { case: 'private', version: 1 }]);
    expect(hit.headers.get('strata-partition')).toBe(createHash('sha256').update('alice').digest('hex'));
    expect(hit.headers.get('vary')?.toLowerCase()).toContain('authorization');
    expect(hit.headers.get('cache-control')).toMatch(/private/);
    // node, Express and Fastify answer the hit from a request view, Hono from its Request.
    expect(partition.mock.calls.at(-1)?.[0] instanceof Request).toBe(harness.name === 'hono');

    // Another user's credential, or none, never gets alice's entry.
    const bob = await as('bob');
    expect([bob.headers.get('x-cache'), await bob.json()]).toEqual(['MISS', { case: 'private', version: 2 }]);
    const nobody = await as();
    // No partition: passed to the origin, never stored (no X-Cache at all).
    expect([nobody.headers.get('x-cache'), await nobody.json()]).toEqual([null, { case: 'private', version: 3 }]);
    const bobAgain = await as('bob');
    expect([bobAgain.headers.get('x-cache'), await bobAgain.json()]).toEqual(['HIT', { case: 'private', version: 2 }]);
    expect(origin.count('mine:private')).toBe(3);
  });

  it('a hit answers If-None-Match with the ETag by 304, no body', async () => {
    const { hit } = await missThenHit('/items?case=304');
    const etag = hit.headers.get('etag');
    expect(etag).toBeTruthy();

    const res = await get('/items?case=304', { 'if-none-match': etag as string });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe('');
    expect(res.headers.get('etag')).toBe(etag);
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(origin.count('items:304')).toBe(1);
  });

  it('past the TTL, an origin answering 500 or throwing gets the stale copy (stale-if-error)', async () => {
    const body = await storedThenAged('/items?case=stale', 61_000);
    try {
      // The origin answers 500, then throws.
      for (const failure of ['status', 'throw'] as const) {
        origin.failure = failure;
        const stale = await get('/items?case=stale');
        expect(stale.status, failure).toBe(200);
        expect(stale.headers.get('x-cache'), failure).toBe('STALE');
        expect(await stale.text(), failure).toBe(body);
      }
      expect(origin.count('items:stale')).toBe(3);
    } finally {
      origin.failure = 'none';
    }
    // The origin is back: the next request refreshes the entry.
    const fresh = await get('/items?case=stale');
    expect(fresh.headers.get('x-cache')).toBe('MISS');
    expect(await fresh.json()).toEqual({ case: 'stale', version: 4 });
  });

  it('within stale-while-revalidate the stale copy is served and the entry refreshed in the background', async () => {
    const body = await storedThenAged('/feed?case=swr', 61_000);

    const stale = await get('/feed?case=swr');
    expect(stale.headers.get('x-cache')).toBe('STALE');
    expect(await stale.text()).toBe(body);
    // The refresh Strata started must reach the handler and replace the entry.
    await vi.waitFor(async () => {
      const res = await get('/feed?case=swr');
      expect(res.headers.get('x-cache')).toBe('HIT');
      expect(await res.json()).toEqual({ case: 'swr', version: 2 });
    });
    expect(origin.count('feed:swr')).toBe(2);
  });

  it('fields set for the request before Strata (a request id) are neither stored nor replayed', async () => {
    const { miss, hit } = await missThenHit('/items?case=request-id');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    const first = Number(miss.headers.get('x-request-id'));
    expect(first).toBeGreaterThan(0);
    expect(hit.headers.get('x-request-id')).toBe(String(first + 1));
  });

  it('a HEAD hit has the headers and no body', async () => {
    await (await get('/items?case=head')).arrayBuffer();
    const res = await fetch(`${server.base}/items?case=head`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-cache')).toBe('HIT');
    expect(await res.text()).toBe('');
    expect(origin.count('items:head')).toBe(1);
  });

  it('a binary body round-trips byte-exact, with its length, on the miss and on the hit', async () => {
    for (const cache of ['MISS', 'HIT']) {
      const res = await get('/binary');
      expect(res.headers.get('x-cache')).toBe(cache);
      // Both are written from the bytes the cache holds: one write with a length, never chunked.
      expect(res.headers.get('content-length'), cache).toBe(String(BINARY.byteLength));
      expect(digest(await res.arrayBuffer()), cache).toBe(digest(BINARY));
    }
    expect(origin.count('binary')).toBe(1);
  });

  it('several Set-Cookie fields survive, and such a response is not cached', async () => {
    const first = await get('/cookies');
    expect(first.headers.getSetCookie()).toHaveLength(2);
    expect(first.headers.getSetCookie().map((cookie) => cookie.split(';')[0])).toEqual(['a=1', 'b=2']);
    expect(await first.text()).toBe('cookies');
    const second = await get('/cookies');
    expect(second.headers.get('x-cache')).toBe('MISS');
    expect(second.headers.getSetCookie()).toHaveLength(2);
    expect(origin.count('cookies')).toBe(2);
  });

  it('a cacheable non-200 status (410) is stored and served as a hit', async () => {
    for (const cache of ['MISS', 'HIT']) {
      const res = await get('/gone');
      expect(res.status, cache).toBe(410);
      expect(res.headers.get('x-cache')).toBe(cache);
      expect(await res.text(), cache).toBe('Gone');
    }
    expect(origin.count('gone')).toBe(1);
  });

  it('a handler that fails gives a 500, not cached, and the server keeps serving', async () => {
    const res = await get('/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('cache-control')).toMatch(/no-store/);
    await res.arrayBuffer();
    const again = await get('/boom');
    expect(again.status).toBe(500);
    await again.arrayBuffer();
    expect(origin.count('boom')).toBe(2);
    if (harness.name === 'node') expect(origin.reported).toHaveLength(2);

    const after = await get('/items?case=after-boom');
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual({ case: 'after-boom', version: 1 });
  });

  it('a request body reaches the handler intact (routes outside the manifest pass through)', async () => {
    // Large enough to need many reads: a Request body that read eagerly would stall the framework's parser.
    const text = 'hello strata ✓ '.repeat(40_000);
    const res = await fetch(`${server.base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: text,
      signal: AbortSignal.timeout(5_000),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(text);
    expect(res.headers.get('x-cache')).toBeNull();
  });
});
