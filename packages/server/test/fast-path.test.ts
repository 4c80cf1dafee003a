import { memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
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
  const answer = await fast.answerFromCache(method, url, (name) => lower[name] ?? null);
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
  expect(Object.fromEntries(answer?.headers ?? [])).toEqual(Object.fromEntries(response.headers));
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
    await strata.handle(get('/api/me'), app);
    expect((await both(strata, 'GET', '/api/me')).answer).toBeUndefined(); // private: needs partition(request)
    expect((await both(strata, 'GET', '/api/lang', { 'Accept-Language': 'de' })).answer).toBeUndefined();
    await strata.handle(get('/api/users'), app);
    time.advance(70);
    expect((await both(strata, 'GET', '/api/users')).answer).toBeUndefined(); // stale: SWR belongs to handle()
    expect((await both(strata, 'POST', '/api/users/9')).answer).toBeUndefined();
    await strata.handle(get('/api/users/2'), app);
    store.fail();
    expect((await both(strata, 'GET', '/api/users/2')).answer).toBeUndefined(); // store in trouble
  });

  it('respects purges like the full path', async () => {
    const strata = make();
    await strata.handle(get('/api/users/4'), origin());
    expect((await both(strata, 'GET', '/api/users/4')).answer).toBeDefined();
    await strata.purge({ tags: ['user:4'] });
    expect((await both(strata, 'GET', '/api/users/4')).answer).toBeUndefined();
  });
});
