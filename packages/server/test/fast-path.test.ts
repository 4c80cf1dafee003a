import { memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { pairs } from '../src/cache/entry.js';
import { internalsOf } from '../src/internals.js';
import { chaos } from './helpers/chaos.js';
import { clock, get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();

/** The fast path and the full path, asked the same thing at the same instant. */
async function both(
  strata: ReturnType<typeof make>,
  method: string,
  path: string,
  headers: Record<string, string> = {},
) {
  const url = new URL(`http://app.test${path}`);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const fast = internalsOf(strata);
  if (!fast) throw new Error('createStrata attaches the fast path');
  const answer = await fast.answerFromCache(method, url.href, (name) => lower[name] ?? null);
  const response = await strata.handle(new Request(url, { method, headers }), origin());
  return { answer, response };
}

async function expectSame(
  strata: ReturnType<typeof make>,
  method: string,
  path: string,
  headers?: Record<string, string>,
) {
  const { answer, response } = await both(strata, method, path, headers);
  expect(answer, `${method} ${path} should be answered by the fast path`).toBeDefined();
  expect(answer?.status).toBe(response.status);
  expect(Object.fromEntries(pairs(answer?.fields ?? []))).toEqual(Object.fromEntries(response.headers));
  const body = new Uint8Array(await response.arrayBuffer());
  expect(answer?.body ?? new Uint8Array()).toEqual(body);
}

describe('answerFromCache (the adapters’ fast path)', () => {
  it('answers fresh hits exactly as handle() does: GET, HEAD, 304, Vary variants, upstream Cache-Status', async () => {
    const time = clock();
    const strata = make({ now: time.now });
    const app = origin(
      (request) =>
        new Response(`lang=${request.headers.get('accept-language')}`, {
          headers: { etag: '"e1"', 'cache-status': 'Upstream; hit', 'content-type': 'text/plain' },
        }),
    );
    await strata.handle(get('/api/users/1'), app);
    await strata.handle(get('/api/lang', { 'accept-language': 'fr' }), app);
    await strata.handle(get('/api/dashboard'), app); // a CDN route with tags
    time.advance(3);
    await expectSame(strata, 'GET', '/api/users/1');
    await expectSame(strata, 'HEAD', '/api/users/1');
    await expectSame(strata, 'GET', '/api/users/1', { 'If-None-Match': 'W/"e1"' });
    await expectSame(strata, 'GET', '/api/lang', { 'Accept-Language': 'fr' });
    await expectSame(strata, 'GET', '/api/dashboard');
  });

  it('leaves everything else to the full path', async () => {
    const time = clock();
    const store = chaos(memoryStore({ now: time.now }));
    const strata = make({ now: time.now, store, partition: () => 'alice' });
    const app = origin();
    expect((await both(strata, 'GET', '/api/users/9')).answer).toBeUndefined(); // a miss
    expect((await both(strata, 'GET', '/api/lang', { 'Accept-Language': 'de' })).answer).toBeUndefined();
    await strata.handle(get('/api/users'), app);
    time.advance(70);
    expect((await both(strata, 'GET', '/api/users')).answer).toBeUndefined(); // stale: SWR belongs to handle()
    expect((await both(strata, 'POST', '/api/users/9')).answer).toBeUndefined();
    await strata.handle(get('/api/users/2'), app);
    store.fail();
    expect((await both(strata, 'GET', '/api/users/2')).answer).toBeUndefined(); // store in trouble
  });

  it('answers private hits exactly as handle() does, in the partition that stored them only', async () => {
    const time = clock();
    // The partition comes from the credential, read through the minimal view both paths give it.
    const partition = (request: { headers: { get(name: string): string | null } }) =>
      request.headers.get('authorization')?.replace(/^Bearer /, '') || undefined;
    const strata = make({ now: time.now, partition });
    const app = origin();
    await strata.handle(get('/api/me', { authorization: 'Bearer alice' }), app);
    time.advance(2);
    await expectSame(strata, 'GET', '/api/me', { Authorization: 'Bearer alice' });
    await expectSame(strata, 'HEAD', '/api/me', { Authorization: 'Bearer alice' });
    const { answer } = await both(strata, 'GET', '/api/me', { Authorization: 'Bearer alice' });
    const fields = new Map(pairs(answer?.fields ?? []));
    expect(fields.get('strata-partition')).toMatch(/^[0-9a-f]{64}$/);
    expect(fields.get('vary')?.toLowerCase()).toContain('authorization');
    // Another user's credential, or none, never gets alice's entry.
    const asBob = await internalsOf(strata)?.answerFromCache('GET', 'http://app.test/api/me', (name) =>
      name === 'authorization' ? 'Bearer bob' : null,
    );
    expect(asBob).toBeUndefined();
    const asNobody = await internalsOf(strata)?.answerFromCache('GET', 'http://app.test/api/me', () => null);
    expect(asNobody).toBeUndefined();
    // `partition` sees the URL a Request would carry, however the target was written.
    const seen: string[] = [];
    const recording = make({
      now: time.now,
      partition: (request) => {
        seen.push(request.url);
        return 'alice';
      },
    });
    await recording.handle(get('/api/me'), app);
    const raw = await internalsOf(recording)?.answerFromCache('GET', 'http://App.Test/api/./me', () => null);
    expect(raw).toBeDefined();
    expect(seen).toEqual(['http://app.test/api/me', 'http://app.test/api/me']);

    // And bob's own request, through the full path, is a miss that stores bob's entry apart.
    const bobs = await strata.handle(get('/api/me', { authorization: 'Bearer bob' }), app);
    expect(bobs.headers.get('x-cache')).toBe('MISS');
    expect(bobs.headers.get('strata-partition')).not.toBe(fields.get('strata-partition'));
    expect(app.calls).toBe(3);
  });

  it('respects purges like the full path', async () => {
    const strata = make();
    await strata.handle(get('/api/users/4'), origin());
    expect((await both(strata, 'GET', '/api/users/4')).answer).toBeDefined();
    await strata.purge({ tags: ['user:4'] });
    expect((await both(strata, 'GET', '/api/users/4')).answer).toBeUndefined();
  });
});

describe('answerNow (the fast path without a promise)', () => {
  const ask = (strata: ReturnType<typeof make>, method: string, path: string, headers: Record<string, string> = {}) => {
    const fast = internalsOf(strata);
    if (!fast) throw new Error('createStrata attaches the fast path');
    return fast.answerNow(method, `http://app.test${path}`, (name) => headers[name] ?? null);
  };

  it('answers, within the call, what answerFromCache answers from the memory store', async () => {
    const time = clock();
    const strata = make({ now: time.now });
    const app = origin(
      (request) => new Response(`lang=${request.headers.get('accept-language')}`, { headers: { etag: '"e1"' } }),
    );
    await strata.handle(get('/api/users/1'), app);
    await strata.handle(get('/api/lang', { 'accept-language': 'fr' }), app);
    time.advance(3);
    const fast = internalsOf(strata);
    for (const [method, path, headers] of [
      ['GET', '/api/users/1', {}],
      ['HEAD', '/api/users/1', {}],
      ['GET', '/api/users/1', { 'if-none-match': '"e1"' }],
      ['GET', '/api/lang', { 'accept-language': 'fr' }],
    ] as const) {
      const now = ask(strata, method, path, headers);
      expect(now, `${method} ${path}`).toBeTruthy();
      const later = await fast?.answerFromCache(
        method,
        `http://app.test${path}`,
        (name) => (headers as Record<string, string>)[name] ?? null,
      );
      expect(now).toEqual(later);
    }
    expect(app.calls).toBe(2);
  });

  it('counts one hit per answer, like the other paths', async () => {
    const strata = make();
    await strata.handle(get('/api/users/5'), origin());
    const before = (await strata.stats()).routes['/api/users/:id']?.hit ?? 0;
    for (let i = 0; i < 3; i++) expect(ask(strata, 'GET', '/api/users/5')).toBeTruthy();
    expect((await strata.stats()).routes['/api/users/:id']?.hit).toBe(before + 3);
  });

  it('says null where the full path must answer, undefined where only answerFromCache can tell', async () => {
    const time = clock();
    const strata = make({ now: time.now, partition: () => 'alice' });
    const app = origin();
    expect(ask(strata, 'GET', '/api/users/9')).toBeNull(); // a miss
    expect(ask(strata, 'POST', '/api/users/9')).toBeNull();
    expect(ask(strata, 'GET', '/auth/login')).toBeNull(); // a route the server cache does not store
    await strata.handle(get('/api/users'), app);
    time.advance(70);
    expect(ask(strata, 'GET', '/api/users')).toBeNull(); // stale: stale-while-revalidate belongs to handle()
    await strata.handle(get('/api/me'), app);
    expect(ask(strata, 'GET', '/api/me')).toBeUndefined(); // private: `partition` may be async
    expect(await internalsOf(strata)?.answerFromCache('GET', 'http://app.test/api/me', () => null)).toBeDefined();
    // A store with I/O only (no `peek`) leaves every read to answerFromCache.
    const remote = make({ store: chaos(memoryStore()) });
    await remote.handle(get('/api/users/3'), app);
    expect(ask(remote, 'GET', '/api/users/3')).toBeUndefined();
    expect(await internalsOf(remote)?.answerFromCache('GET', 'http://app.test/api/users/3', () => null)).toBeDefined();
  });

  it('respects purges at once', async () => {
    const strata = make();
    await strata.handle(get('/api/users/4'), origin());
    expect(ask(strata, 'GET', '/api/users/4')).toBeTruthy();
    await strata.purge({ tags: ['user:4'] });
    expect(ask(strata, 'GET', '/api/users/4')).toBeNull();
  });
});
