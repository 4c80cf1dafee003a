import { memoryBus, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { barrier, clock, get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();

/** `/api/users` (server 60 s, stale-while-revalidate 30 s, tag `users`) stored once, on a clock the test moves. */
async function stored(options: Parameters<typeof make>[0] = {}) {
  const time = clock();
  const strata = make({ now: time.now, ...options });
  const app = origin();
  await strata.handle(get('/api/users'), app);
  expect((await strata.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('HIT');
  return { time, strata, app };
}

describe('soft purge in the server cache (memory store)', () => {
  it('serves the entry stale with a Cache-Status that says so, runs one refresh, then serves it fresh', async () => {
    const { time, strata, app } = await stored();
    await strata.purge({ tags: ['users'], mode: 'soft' });
    time.advance(1);
    const { gate, release } = barrier();
    app.respond = async (_request, call) => {
      await gate;
      return new Response(`body ${call}`);
    };
    const answers = await Promise.all(Array.from({ length: 5 }, () => strata.handle(get('/api/users'), app)));
    for (const answer of answers) {
      expect(answer.headers.get('x-cache')).toBe('STALE');
      expect(answer.headers.get('cache-status')).toBe('strata; hit; ttl=-1; detail=soft-purge');
      expect(await answer.text()).toBe('body 1');
    }
    expect(app.calls).toBe(2); // the first load, and one refresh for the five stale answers
    release();
    await expect.poll(async () => (await strata.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('HIT');
    const fresh = await strata.handle(get('/api/users'), app);
    expect(fresh.headers.get('cache-status')).toMatch(/^strata; hit; ttl=\d+$/);
    expect(await fresh.text()).toBe('body 2');
    expect(app.calls).toBe(2);
  });

  it('serves stale for at most the stale-while-revalidate window counted from the purge, then misses', async () => {
    const { time, strata, app } = await stored();
    time.advance(10);
    await strata.purge({ tags: ['users'], mode: 'soft' });
    time.advance(30);
    const late = await strata.handle(get('/api/users'), app);
    expect(late.headers.get('x-cache')).toBe('MISS');
    expect(await late.text()).toBe('body 2');
  });

  it('a route without stale-while-revalidate treats a soft purge as hard, stale-if-error included', async () => {
    const time = clock();
    const strata = make({ now: time.now });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    await strata.purge({ tags: ['user:1'], mode: 'soft' });
    app.respond = () => new Response('down', { status: 503 });
    const after = await strata.handle(get('/api/users/1'), app);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(after.status).toBe(503);
  });

  it('hard stays the default, and a hard purge after a soft one is a miss', async () => {
    for (const purges of [[undefined], ['soft', 'hard']] as const) {
      const { strata, app } = await stored();
      for (const mode of purges) await strata.purge({ tags: ['users'], ...(mode ? { mode } : {}) });
      expect((await strata.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('MISS');
    }
  });

  it('a soft purge by key marks that URL stale', async () => {
    const { strata, app } = await stored();
    await strata.purge({ keys: ['/api/users'], mode: 'soft' });
    expect((await strata.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('STALE');
  });

  it('a batch is soft only when every purge in it is', async () => {
    const soft = await stored();
    await soft.strata.batch(async () => {
      await soft.strata.purge({ tags: ['users'], mode: 'soft' });
      await soft.strata.purge({ tags: ['other'], mode: 'soft' });
    });
    expect((await soft.strata.handle(get('/api/users'), soft.app)).headers.get('x-cache')).toBe('STALE');
    const mixed = await stored();
    await mixed.strata.batch(async () => {
      await mixed.strata.purge({ tags: ['users'], mode: 'soft' });
      await mixed.strata.purge({ tags: ['other'] });
    });
    expect((await mixed.strata.handle(get('/api/users'), mixed.app)).headers.get('x-cache')).toBe('MISS');
  });

  it('another instance with its own in-process store applies the soft purge from the log', async () => {
    const bus = memoryBus();
    const time = clock();
    const a = make({ now: time.now, bus, store: memoryStore({ now: time.now }) });
    const b = make({ now: time.now, bus, store: memoryStore({ now: time.now }) });
    const app = origin();
    await b.handle(get('/api/users'), app);
    const events: unknown[] = [];
    const subscription = bus.subscribe(undefined, (event) => events.push(event));
    await a.purge({ tags: ['users'], mode: 'soft' });
    await expect.poll(() => events.length).toBe(1);
    subscription.close();
    expect(events[0]).toMatchObject({ tags: ['users'], mode: 'soft' });
    await expect.poll(async () => (await b.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('STALE');
  });

  it('refuses an unknown mode with E_PURGE_INVALID', async () => {
    const strata = make();
    await expect(strata.purge({ tags: ['users'], mode: 'gentle' as 'soft' })).rejects.toMatchObject({
      code: 'E_PURGE_INVALID',
    });
  });

  it('the data cache serves a soft-purged value while it reloads it once', async () => {
    const time = clock();
    const strata = make({ now: time.now });
    let n = 0;
    const load = async () => ({ n: ++n });
    const options = { ttl: 60, staleWhileRevalidate: 30, tags: ['users'] };
    expect(await strata.cached('list', load, options)).toEqual({ n: 1 });
    await strata.purge({ tags: ['users'], mode: 'soft' });
    expect(await strata.cached('list', load, options)).toEqual({ n: 1 });
    await expect.poll(() => strata.cached('list', load, options)).toEqual({ n: 2 });
    expect(n).toBe(2);
  });
});
