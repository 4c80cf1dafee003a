import { defineManifest, fullCache, serverCache } from '@strata/policy';
import { createStrata, memoryStore } from '@strata/server';
import { afterEach, describe, expect, it } from 'vitest';
import { clock, get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();
const partition = (request: Request) => request.headers.get('authorization')?.replace(/^Bearer /, '') || undefined;

describe('private answers in the browser HTTP cache (RFC 9111 §4.1)', () => {
  it('vary on Authorization and Cookie, whether the policy or the handler chose Cache-Control', async () => {
    const strata = make({ partition });
    const alice = { authorization: 'Bearer alice' };
    const policy = await strata.handle(get('/api/me', alice), origin());
    expect(policy.headers.get('cache-control')).toBe('private, max-age=60');
    expect(policy.headers.get('vary')).toBe('authorization, cookie');
    const own = await strata.handle(
      get('/api/me', { authorization: 'Bearer carol' }),
      origin(() => new Response('x', { headers: { 'cache-control': 'private, max-age=60', vary: 'Accept' } })),
    );
    expect(own.headers.get('vary')).toBe('Accept, authorization, cookie');
    // A public route that sets a cookie is made private: it varies on the credentials too.
    const cookie = await strata.handle(
      get('/api/dashboard'),
      origin(() => new Response('x', { headers: { 'set-cookie': 'sid=1' } })),
    );
    expect(cookie.headers.get('vary')).toBe('authorization, cookie');
  });
});

describe('credentials never in server keys', () => {
  it('keeps only a SHA-256 hash of vary values and partitions in the stored keys', async () => {
    const store = memoryStore();
    const strata = make({ store, partition });
    const app = origin();
    const tokens = ['alice-6f1c2e9b0d', 'bob-91aa07c3e4'];
    for (const token of tokens) {
      await strata.handle(get('/api/dashboard', { authorization: `Bearer ${token}` }), app);
      await strata.handle(get('/api/me', { authorization: `Bearer ${token}` }), app);
    }
    const keys = await store.keys('*', 100);
    expect(keys.filter((key) => key.startsWith('GET '))).toHaveLength(4);
    for (const key of keys) for (const token of tokens) expect(key).not.toContain(token.slice(0, 8));
    // Each user still has their own entry.
    const again = await strata.handle(get('/api/dashboard', { authorization: `Bearer ${tokens[0]}` }), app);
    expect(again.headers.get('x-cache')).toBe('HIT');
  });
});

describe('negative answers: short at every level', () => {
  const instances: ReturnType<typeof createStrata>[] = [];
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((s) => s.close()));
  });
  const staticManifest = (defaults = {}) =>
    defineManifest({
      version: 1,
      defaults,
      routes: [
        { match: '/static/*', policy: fullCache(604800, { immutable: true, staleWhileRevalidate: 60 }) },
        { match: '/api/users/:id', policy: serverCache(600, { tags: ['user:{id}'], staleIfError: 300 }) },
      ],
    });
  const makeStatic = (defaults = {}) => {
    const time = clock();
    const strata = createStrata({
      manifest: staticManifest(defaults),
      store: memoryStore({ now: time.now }),
      now: time.now,
    });
    instances.push(strata);
    return { strata, time };
  };

  it.each([404, 410])('%i under an immutable static route: max-age 10 at every level, stored 10 s', async (status) => {
    const { strata, time } = makeStatic();
    const app = origin(() => new Response('missing', { status }));
    const first = await strata.handle(get('/static/app.js'), app);
    expect(first.headers.get('cache-control')).toBe('max-age=10');
    expect(first.headers.get('cdn-cache-control')).toBe('max-age=10');
    expect(first.headers.get('surrogate-control')).toBe('max-age=10');
    time.advance(9);
    expect((await strata.handle(get('/static/app.js'), app)).headers.get('x-cache')).toBe('HIT');
    time.advance(2);
    expect((await strata.handle(get('/static/app.js'), app)).headers.get('x-cache')).toBe('MISS');
    expect(app.calls).toBe(2);
  });

  it('follows defaults.negativeTtl, and drops stale windows beyond it on the server', async () => {
    const { strata, time } = makeStatic({ negativeTtl: 3 });
    const failing = { now: false };
    const app = origin(() =>
      failing.now ? new Response('down', { status: 503 }) : new Response('no', { status: 404 }),
    );
    const first = await strata.handle(get('/api/users/9'), app);
    expect(first.headers.get('cache-control')).toBe('private, max-age=3');
    time.advance(4);
    failing.now = true;
    // staleIfError (300 s) does not keep a stale 404 past negativeTtl.
    const after = await strata.handle(get('/api/users/9'), app);
    expect(after.status).toBe(503);
  });

  it.each([200, 301])('%i keeps the policy', async (status) => {
    const { strata, time } = makeStatic();
    const app = origin(
      () => new Response(status === 301 ? null : 'js', { status, headers: { location: '/static/b.js' } }),
    );
    const first = await strata.handle(get('/static/a.js'), app);
    expect(first.headers.get('cache-control')).toBe('max-age=604800, stale-while-revalidate=60, immutable');
    expect(first.headers.get('cdn-cache-control')).toBe('max-age=604800, stale-while-revalidate=60');
    time.advance(100_000);
    expect((await strata.handle(get('/static/a.js'), app)).headers.get('x-cache')).toBe('HIT');
    expect(app.calls).toBe(1);
  });
});
