import { type Manifest, PARTITION_HEADER, partitionHash } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { barrier, clock, get, manifest, type Origin, origin, strataFor, strataPerTest } from './origin.js';

const make = strataPerTest();

/** An instance on a clock the test moves. */
function timed(options: Parameters<typeof make>[0] = {}) {
  const time = clock();
  return { time, strata: make({ ...options, now: time.now }) };
}

/**
 * Starts a GET of `path` whose origin answers `body` only once released, and purges `tag` while
 * that fetch is in flight.
 */
async function purgeDuringFetch(strata: ReturnType<typeof make>, path: string, tag: string, body: string) {
  const { gate, release } = barrier();
  const slow = origin(async () => {
    await gate;
    return new Response(body);
  });
  const inflight = strata.handle(get(path), slow);
  await new Promise((resolve) => setImmediate(resolve));
  await strata.purge({ tags: [tag] });
  return { inflight, release };
}

/** An origin that answers `status` with `body`, or throws an error saying `body`. */
function failing(status: number | 'throws', body = 'oops'): Origin {
  return origin(() => {
    if (status === 'throws') throw new Error(body);
    return new Response(body, { status });
  });
}

/** A GET of `path` stored, then the clock `seconds` on: `again(app)` asks for it again, of `app`. */
async function aged(path: string, seconds: number) {
  const { time, strata } = timed();
  await strata.handle(get(path), origin());
  time.advance(seconds);
  return { strata, again: (app: Origin) => strata.handle(get(path), app) };
}

/** A GET of `path` stored, then `seconds` later another one misses and takes the origin's next answer. */
async function expectRefetchedAfter(path: string, seconds: number): Promise<void> {
  const { time, strata } = timed();
  const app = origin();
  await strata.handle(get(path), app);
  time.advance(seconds);
  const again = await strata.handle(get(path), app);
  expect(again.headers.get('x-cache')).toBe('MISS');
  expect(await again.text()).toBe('body 2');
}

describe('headers', () => {
  it('sets the policy headers on every managed response and leaves unmanaged ones alone', async () => {
    const strata = make();
    const app = origin();
    const managed = await strata.handle(get('/api/dashboard'), app);
    expect(managed.headers.get('cache-control')).toBe('public, max-age=60');
    expect(managed.headers.get('cdn-cache-control')).toBe('public, max-age=60');
    expect(managed.headers.get('surrogate-key')).toBe('dashboard');
    expect(managed.headers.get('vary')).toBe('authorization');
    const unmanaged = await strata.handle(get('/elsewhere'), app);
    expect(unmanaged.headers.get('cache-control')).toBeNull();
    expect(unmanaged.headers.get('x-cache')).toBeNull();
  });

  it('keeps a Cache-Control the handler set itself, merging Vary only', async () => {
    const strata = make();
    const app = origin(() => new Response('x', { headers: { 'cache-control': 'no-store', vary: 'Accept' } }));
    const response = await strata.handle(get('/api/dashboard'), app);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('cdn-cache-control')).toBeNull();
    expect(response.headers.get('vary')).toBe('Accept, authorization');
    // …and a handler's no-store keeps it out of the server cache too.
    await strata.handle(
      get('/api/users/1'),
      origin(() => new Response('x', { headers: { 'cache-control': 'no-store' } })),
    );
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('can be told to override the handler', async () => {
    const strata = make({ respectHandlerCacheControl: false });
    const app = origin(() => new Response('x', { headers: { 'cache-control': 'max-age=999999' } }));
    expect((await strata.handle(get('/api/dashboard'), app)).headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('never lets a shared cache keep a response that sets a cookie', async () => {
    const strata = make();
    const app = origin(() => new Response('x', { headers: { 'set-cookie': 'sid=1' } }));
    const response = await strata.handle(get('/api/dashboard'), app);
    expect(response.headers.get('cache-control')).toBe('private, max-age=60');
    expect(response.headers.get('cdn-cache-control')).toBe('private, no-store');
    expect(response.headers.get('surrogate-key')).toBeNull();
  });

  it('gives statuses no cache should keep no-store, whatever the policy', async () => {
    const strata = make();
    for (const status of [500, 503, 206, 302, 307]) {
      const response = await strata.handle(
        get('/api/dashboard'),
        origin(() => new Response(null, { status })),
      );
      expect(response.headers.get('cache-control'), String(status)).toBe('no-store');
      expect(response.headers.get('cdn-cache-control'), String(status)).toBe('no-store');
    }
  });

  it('applies noStore routes for every method they list', async () => {
    const strata = make();
    const post = new Request('http://app.test/auth/login', { method: 'POST', body: 'u=1' });
    expect((await strata.handle(post, origin())).headers.get('cache-control')).toBe('no-store');
  });
});

describe('server cache', () => {
  it('misses, stores, then hits without calling the origin, with Age, X-Cache and Cache-Status', async () => {
    const { time, strata } = timed();
    const app = origin();
    const miss = await strata.handle(get('/api/users/1'), app);
    expect(miss.headers.get('x-cache')).toBe('MISS');
    expect(miss.headers.get('cache-status')).toBe('strata; fwd=uri-miss; fwd-status=200; stored');
    expect(await miss.text()).toBe('body 1');
    time.advance(7);
    const hit = await strata.handle(get('/api/users/1'), app);
    expect(app.calls).toBe(1);
    expect(hit.status).toBe(200);
    expect(await hit.text()).toBe('body 1');
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('x-cache-level')).toBe('MEMORY');
    expect(hit.headers.get('age')).toBe('7');
    expect(hit.headers.get('cache-status')).toBe('strata; hit; ttl=53');
    expect(hit.headers.get('cache-control')).toBe('private, max-age=60, stale-if-error=300');
    expect(hit.headers.get('content-type')).toBe('text/plain');
  });

  it('appends to an upstream Cache-Status and counts an upstream Age', async () => {
    const { time, strata } = timed();
    const app = origin(() => new Response('x', { headers: { 'cache-status': 'Upstream; hit', age: '10' } }));
    await strata.handle(get('/api/users/1'), app);
    time.advance(5);
    const hit = await strata.handle(get('/api/users/1'), app);
    expect(hit.headers.get('cache-status')).toBe('Upstream; hit, strata; hit; ttl=45');
    expect(hit.headers.get('age')).toBe('15');
  });

  it('expires after the server TTL', () => expectRefetchedAfter('/api/lang', 61));

  it('shares one entry between query orders and splits by vary header', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/lang?b=2&a=1'), app);
    expect((await strata.handle(get('/api/lang?a=1&b=2'), app)).headers.get('x-cache')).toBe('HIT');
    await strata.handle(get('/api/lang', { 'accept-language': 'fr' }), app);
    const fr = await strata.handle(get('/api/lang', { 'accept-language': 'fr' }), app);
    const de = await strata.handle(get('/api/lang', { 'accept-language': 'de' }), app);
    expect(fr.headers.get('x-cache')).toBe('HIT');
    expect(de.headers.get('x-cache')).toBe('MISS');
    expect(app.calls).toBe(3);
  });

  it('collapses concurrent misses into one origin call', async () => {
    const strata = make();
    const { gate, release } = barrier();
    const app = origin(async (_r, call) => {
      await gate;
      return new Response(`slow ${call}`);
    });
    const pending = Array.from({ length: 20 }, () => strata.handle(get('/api/users/7'), app));
    release();
    const responses = await Promise.all(pending);
    expect(app.calls).toBe(1);
    for (const response of responses) expect(await response.text()).toBe('slow 1');
    expect(responses.filter((r) => r.headers.get('cache-status')?.includes('collapsed')).length).toBe(19);
    // The 19 that waited are neither hits nor misses of their own; one origin call for 20 reads.
    const stats = await strata.stats();
    expect(stats.routes['/api/users/:id']).toMatchObject({ hit: 0, miss: 1, collapsed: 19, origin: 1 });
    expect(stats.totals).toMatchObject({ hitRatio: 0, originPerRead: 1 / 20 });
    expect((await strata.handle(get('/api/users/7'), app)).headers.get('x-cache')).toBe('HIT');
    expect((await strata.stats()).totals).toMatchObject({ hitRatio: 1 / 21, originPerRead: 1 / 21 });
    const metrics = await (await strata.metrics()).text();
    expect(metrics).toContain('strata_cache_lookups_total{route="/api/users/:id",outcome="collapsed"} 19');
    expect(metrics).toContain('strata_origin_calls_total{route="/api/users/:id"} 1');
  });

  it('does not let one client leaving abort a fetch others share', async () => {
    const strata = make();
    const { gate, release } = barrier();
    const app = origin(async (request) => {
      await gate;
      if (request.signal.aborted) throw new Error('aborted');
      return new Response('shared');
    });
    const leaving = new AbortController();
    const first = strata.handle(new Request('http://app.test/api/users/3', { signal: leaving.signal }), app);
    const second = strata.handle(get('/api/users/3'), app);
    leaving.abort();
    release();
    await first.catch(() => undefined);
    expect(await (await second).text()).toBe('shared');
  });

  it('sends hits with a Content-Length, HEAD included', async () => {
    const strata = make();
    const app = origin(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new Uint8Array(12));
              controller.close();
            },
          }),
        ),
    );
    await strata.handle(get('/api/users/len'), app);
    const hit = await strata.handle(get('/api/users/len'), app);
    expect(hit.headers.get('content-length')).toBe('12');
    const head = await strata.handle(new Request('http://app.test/api/users/len', { method: 'HEAD' }), app);
    expect(head.headers.get('content-length')).toBe('12');
  });

  it('only stores cacheable statuses, and never a Set-Cookie response', async () => {
    const strata = make();
    for (const [status, stored] of [
      [404, true],
      [410, true],
      [500, false],
      [206, false],
      [302, false],
    ] as const) {
      const path = `/api/users/s${status}`;
      const app = origin(() => new Response('x', { status }));
      await strata.handle(get(path), app);
      await strata.handle(get(path), app);
      expect(app.calls, String(status)).toBe(stored ? 1 : 2);
    }
    const cookie = origin(() => new Response('x', { headers: { 'set-cookie': 'sid=2' } }));
    await strata.handle(get('/api/users/c'), cookie);
    await strata.handle(get('/api/users/c'), cookie);
    expect(cookie.calls).toBe(2);
  });

  it('passes large bodies through whole without storing them', async () => {
    const strata = make({ maxBodyBytes: 1000 });
    const big = new Uint8Array(5000).map((_, i) => i % 251);
    const app = origin(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 5; i++) controller.enqueue(big.slice(i * 1000, (i + 1) * 1000));
              controller.close();
            },
          }),
        ),
    );
    const first = new Uint8Array(await (await strata.handle(get('/api/users/big'), app)).arrayBuffer());
    expect(first).toEqual(big);
    await strata.handle(get('/api/users/big'), app);
    expect(app.calls).toBe(2);
  });

  it('keeps binary bodies byte-exact', async () => {
    const strata = make();
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const app = origin(() => new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
    await strata.handle(get('/api/files/all.bin'), app);
    const hit = await strata.handle(get('/api/files/all.bin'), app);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(bytes);
  });

  it('answers HEAD from the GET entry, without a body', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/users/h'), app);
    const head = await strata.handle(new Request('http://app.test/api/users/h', { method: 'HEAD' }), app);
    expect(head.headers.get('x-cache')).toBe('HIT');
    expect(await head.text()).toBe('');
    expect(app.calls).toBe(1);
  });

  it('is off with enabled: false, headers still applied', async () => {
    const strata = make({ enabled: false });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    const second = await strata.handle(get('/api/users/1'), app);
    expect(app.calls).toBe(2);
    expect(second.headers.get('cache-control')).toBe('private, max-age=60, stale-if-error=300');
  });
});

describe('conditional requests', () => {
  it('answers If-None-Match on a hit with 304 and the headers a 304 must repeat', async () => {
    const strata = make();
    const app = origin(() => new Response('x', { headers: { etag: '"v1"', 'content-type': 'text/plain' } }));
    await strata.handle(get('/api/lang'), app);
    for (const inm of ['"v1"', 'W/"v1"', '"other", W/"v1"', '*']) {
      const response = await strata.handle(get('/api/lang', { 'if-none-match': inm }), app);
      expect(response.status, inm).toBe(304);
      expect(await response.text()).toBe('');
      expect(response.headers.get('etag')).toBe('"v1"');
      expect(response.headers.get('cache-control')).toBe('private, max-age=60');
      expect(response.headers.get('vary')).toBe('accept-language');
      expect(response.headers.get('date')).not.toBeNull();
      expect(response.headers.get('content-type')).toBeNull();
    }
    expect((await strata.handle(get('/api/lang', { 'if-none-match': '"v2"' }), app)).status).toBe(200);
    expect(app.calls).toBe(1);
  });

  it('stores an ETag when the origin sent none, distinct per content coding', async () => {
    const strata = make();
    await strata.handle(
      get('/api/users/e1'),
      origin(() => new Response('same')),
    );
    await strata.handle(
      get('/api/users/e2'),
      origin(() => new Response('same', { headers: { 'content-encoding': 'gzip' } })),
    );
    const a = (await strata.handle(get('/api/users/e1'), origin())).headers.get('etag');
    const b = (await strata.handle(get('/api/users/e2'), origin())).headers.get('etag');
    expect(a).toMatch(/^"[\w-]{27}"$/);
    expect(b).toMatch(/^"[\w-]{27}"$/);
    expect(a).not.toBe(b);
    expect((await strata.handle(get('/api/users/e1', { 'if-none-match': a as string }), origin())).status).toBe(304);
  });

  it('asks the origin for a full response on a miss, then answers the condition itself', async () => {
    const strata = make();
    const app = origin(() => new Response('x', { headers: { etag: '"e"' } }));
    const response = await strata.handle(get('/api/users/c1', { 'if-none-match': '"e"' }), app);
    expect(app.requests[0]?.headers.get('if-none-match')).toBeNull();
    expect(response.status).toBe(304);
  });
});

describe('stale responses', () => {
  it('serves stale within staleWhileRevalidate and refreshes once in the background', async () => {
    const { time, strata } = timed();
    const app = origin();
    await strata.handle(get('/api/users'), app);
    time.advance(70);
    const stale = await Promise.all(Array.from({ length: 5 }, () => strata.handle(get('/api/users'), app)));
    for (const response of stale) {
      expect(response.headers.get('x-cache')).toBe('STALE');
      expect(response.headers.get('cache-status')).toBe('strata; hit; ttl=-10; detail=stale-while-revalidate');
      expect(await response.text()).toBe('body 1');
    }
    await strata.close(); // waits for the background refresh
    expect(app.calls).toBe(2);
  });

  it('serves the refreshed copy after a background revalidation', async () => {
    const { time, strata } = timed();
    const app = origin();
    await strata.handle(get('/api/users'), app);
    time.advance(70);
    await strata.handle(get('/api/users'), app);
    await expect.poll(async () => (await strata.handle(get('/api/users'), app)).text()).toBe('body 2');
  });

  it('goes to the origin beyond the stale window', () => expectRefetchedAfter('/api/users', 91));

  it('serves the stale copy when the origin fails or answers 5xx within staleIfError', async () => {
    const { strata, again } = await aged('/api/users/9', 120);
    const down = await again(failing('throws', 'connection refused'));
    expect(down.status).toBe(200);
    expect(down.headers.get('x-cache')).toBe('STALE');
    expect(down.headers.get('cache-status')).toBe('strata; hit; ttl=-60; detail=stale-if-error');
    expect(await down.text()).toBe('body 1');
    const unavailable = await again(failing(503));
    expect(unavailable.status).toBe(200);
    expect(await unavailable.text()).toBe('body 1');
    expect((await strata.stats()).totals['error-fallback']).toBe(2);
  });

  it('within staleIfError, 500/502/503/504 get the stale copy and other 5xx (501, 505) pass through (RFC 5861 §4)', async () => {
    const { strata, again } = await aged('/api/users/9', 120);
    const answers: [number, number, string | null][] = [];
    for (const status of [500, 501, 502, 503, 504, 505]) {
      const response = await again(failing(status, `origin ${status}`));
      answers.push([status, response.status, response.headers.get('x-cache')]);
    }
    expect(answers).toEqual([
      [500, 200, 'STALE'],
      [501, 501, 'MISS'],
      [502, 200, 'STALE'],
      [503, 200, 'STALE'],
      [504, 200, 'STALE'],
      [505, 505, 'MISS'],
    ]);
    expect((await strata.stats()).totals['error-fallback']).toBe(4);
  });

  it('gives the origin’s answer beyond staleIfError', async () => {
    const { again } = await aged('/api/users/9', 400);
    expect((await again(failing(503))).status).toBe(503);
    await expect(again(failing('throws', 'down'))).rejects.toThrow('down');
  });

  it('never serves stale under mustRevalidate', async () => {
    const { again } = await aged('/api/strict', 61);
    expect((await again(failing(500))).status).toBe(500);
  });
});

describe('keys and partitions', () => {
  const partition = (request: Request) => request.headers.get('authorization')?.replace(/^Bearer /, '') || undefined;

  it('keeps private entries per user and never crosses them', async () => {
    const strata = make({ partition });
    const app = origin((request) => new Response(`me=${request.headers.get('authorization')}`));
    const alice = { authorization: 'Bearer alice' };
    const bob = { authorization: 'Bearer bob' };
    await strata.handle(get('/api/me', alice), app);
    const bobs = await strata.handle(get('/api/me', bob), app);
    expect(await bobs.text()).toBe('me=Bearer bob');
    const alices = await strata.handle(get('/api/me', alice), app);
    expect(alices.headers.get('x-cache')).toBe('HIT');
    expect(await alices.text()).toBe('me=Bearer alice');
    expect(alices.headers.get('cache-control')).toBe('private, max-age=60');
  });

  it('never stores a private route without a partition', async () => {
    const strata = make({ partition });
    const app = origin();
    await strata.handle(get('/api/me'), app);
    const anonymous = await strata.handle(get('/api/me'), app);
    expect(app.calls).toBe(2);
    expect(anonymous.headers.get(PARTITION_HEADER)).toBeNull();
  });

  it('names the partition of a private answer, hashed, on a miss and a hit (Strata-Partition)', async () => {
    const strata = make({ partition });
    const app = origin();
    const alice = { authorization: 'Bearer alice' };
    const miss = await strata.handle(get('/api/me', alice), app);
    const hit = await strata.handle(get('/api/me', alice), app);
    expect(hit.headers.get('x-cache')).toBe('HIT');
    const expected = await partitionHash('alice');
    expect(expected).toBe('2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90');
    expect([miss.headers.get(PARTITION_HEADER), hit.headers.get(PARTITION_HEADER)]).toEqual([expected, expected]);
    // Public answers name none.
    expect((await strata.handle(get('/api/users/1', alice), app)).headers.get(PARTITION_HEADER)).toBeNull();
  });

  it('does not let a client switch caching off with request directives', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    const response = await strata.handle(get('/api/users/1', { 'cache-control': 'no-cache', pragma: 'no-cache' }), app);
    expect(response.headers.get('x-cache')).toBe('HIT');
    expect(app.calls).toBe(1);
  });

  it('keeps headers outside vary out of the key, and vary values cannot forge another key', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/lang', { 'accept-language': 'en' }), app);
    const other = await strata.handle(
      get('/api/lang', { 'accept-language': 'en', 'x-forwarded-host': 'evil.test' }),
      app,
    );
    expect(other.headers.get('x-cache')).toBe('HIT');
    const forged = await strata.handle(get('/api/lang', { 'accept-language': 'en"],["x' }), app);
    expect(forged.headers.get('x-cache')).toBe('MISS');
  });
});

describe('invalidation', () => {
  it('purges by tag at once, leaving other entries', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    await strata.handle(get('/api/users/2'), app);
    const result = await strata.purge({ tags: ['user:1'] });
    expect(result.tags).toEqual(['user:1']);
    expect(typeof result.id).toBe('string');
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
    expect((await strata.handle(get('/api/users/2'), app)).headers.get('x-cache')).toBe('HIT');
    await strata.purge({ tags: ['users'] });
    expect((await strata.handle(get('/api/users/2'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('purges a URL in every vary variant', async () => {
    const strata = make();
    const app = origin();
    for (const lang of ['en', 'fr']) await strata.handle(get('/api/lang', { 'accept-language': lang }), app);
    await strata.purge({ keys: ['/api/lang'] });
    for (const lang of ['en', 'fr']) {
      expect((await strata.handle(get('/api/lang', { 'accept-language': lang }), app)).headers.get('x-cache')).toBe(
        'MISS',
      );
    }
  });

  it('rejects invalid tags and keys with a clear error, purging nothing', async () => {
    const strata = make();
    await expect(strata.purge({ tags: ['ok', 'not ok'] })).rejects.toMatchObject({ code: 'E_TAG_INVALID' });
    await expect(strata.purge({ keys: ['javascript:alert(1)'] })).rejects.toMatchObject({ code: 'E_URL_INVALID' });
  });

  it('an entry fetched while a purge lands is not resurrected', async () => {
    const strata = make();
    const { inflight, release } = await purgeDuringFetch(strata, '/api/users/5', 'user:5', 'old');
    release();
    expect(await (await inflight).text()).toBe('old');
    const after = await strata.handle(
      get('/api/users/5'),
      origin(() => new Response('new')),
    );
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(await after.text()).toBe('new');
  });

  it('a request made after a purge never joins an origin fetch that began before it', async () => {
    const strata = make();
    const { inflight: early, release } = await purgeDuringFetch(strata, '/api/users/8', 'user:8', 'before the write');
    const late = strata.handle(
      get('/api/users/8'),
      origin(() => new Response('after the write')),
    );
    release();
    expect(await (await early).text()).toBe('before the write');
    expect(await (await late).text()).toBe('after the write');
  });

  it('a successful unsafe request invalidates the cached GET of the same URL and its Location', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    await strata.handle(get('/api/users/2'), app);
    const failed = new Request('http://app.test/api/users/1', { method: 'PUT', body: 'x' });
    await strata.handle(
      failed,
      origin(() => new Response('no', { status: 500 })),
    );
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('HIT');
    const put = new Request('http://app.test/api/users/1', { method: 'PUT', body: 'x' });
    await strata.handle(
      put,
      origin(() => new Response(null, { status: 204, headers: { location: '/api/users/2' } })),
    );
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
    expect((await strata.handle(get('/api/users/2'), app)).headers.get('x-cache')).toBe('MISS');
  });
});

describe('stats', () => {
  it('counts hits, misses and stale answers per route', async () => {
    const strata = make();
    const app = origin();
    for (let i = 0; i < 3; i++) await strata.handle(get('/api/users/1'), app); // a miss, then two hits
    const stats = await strata.stats();
    expect(stats.routes['/api/users/:id']).toMatchObject({ hit: 2, miss: 1, hitRatio: 2 / 3 });
    expect(stats.store).toMatchObject({ level: 'MEMORY', circuit: 'closed', entries: 1 });
  });

  it('rejects a bad manifest at creation, listing every issue', () => {
    // JSON that skipped parseManifest and was cast: createStrata still validates it at runtime.
    const json = { version: 1, routes: [{ match: 'x', policy: { ttl: -1 } }] } as unknown as Manifest;
    expect(() => strataFor({ manifest: json })).toThrow(
      /routes\[0\]\.match[\s\S]*routes\[0\]\.policy\.levels[\s\S]*routes\[0\]\.policy\.ttl/,
    );
    expect(manifest.routes.length).toBeGreaterThan(0);
  });

  it('types the manifest option: an object that is not a Manifest does not compile', () => {
    // The directive fails the type check (`npm run typecheck`) if this line ever compiles.
    // @ts-expect-error `{ nope: true }` is not a Manifest
    expect(() => strataFor({ manifest: { nope: true } })).toThrow(/Invalid Strata manifest/);
  });
});
