import { describe, expect, it } from 'vitest';
import { barrier, clock, strataPerTest } from './origin.js';

const make = strataPerTest();

const counter = () => {
  const fn = async () => {
    fn.calls++;
    return { n: fn.calls };
  };
  fn.calls = 0;
  return fn;
};

describe('strata.cached', () => {
  it('caches a result for its TTL', async () => {
    const time = clock();
    const strata = make({ now: time.now });
    const load = counter();
    expect(await strata.cached('q1', load, { ttl: 10 })).toEqual({ n: 1 });
    time.advance(9);
    expect(await strata.cached('q1', load, { ttl: 10 })).toEqual({ n: 1 });
    time.advance(2);
    expect(await strata.cached('q1', load, { ttl: 10 })).toEqual({ n: 2 });
  });

  it('runs one load for concurrent callers', async () => {
    const strata = make();
    let calls = 0;
    const { gate, release } = barrier();
    const load = async () => {
      calls++;
      await gate;
      return 'v';
    };
    const pending = Array.from({ length: 10 }, () => strata.cached('q', load, { ttl: 10 }));
    release();
    expect(await Promise.all(pending)).toEqual(Array(10).fill('v'));
    expect(calls).toBe(1);
    expect((await strata.stats()).routes.data).toMatchObject({ miss: 1, collapsed: 9, origin: 1 });
  });

  it('a read issued after a purge never joins a load that began before it (read your writes)', async () => {
    const strata = make();
    let value = 1;
    const { gate, release } = barrier();
    const slow = async () => {
      const seen = value; // what the database says when the load starts
      await gate;
      return seen;
    };
    const before = strata.cached('row', slow, { tags: ['table:public.t'] });
    await new Promise((resolve) => setImmediate(resolve));
    value = 2; // the write…
    await strata.purge({ tags: ['table:public.t'] }); // …and its purge, both finished
    const after = strata.cached('row', async () => value, { tags: ['table:public.t'] });
    release();
    expect(await before).toBe(1);
    expect(await after).toBe(2);
  });

  it('is invalidated by its tags', async () => {
    const strata = make();
    const load = counter();
    await strata.cached('user-42', load, { ttl: 60, tags: ['table:public.users'] });
    await strata.cached('orders', load, { ttl: 60, tags: ['table:public.orders'] });
    await strata.purge({ tags: ['table:public.users'] });
    expect(await strata.cached('user-42', load, { ttl: 60, tags: ['table:public.users'] })).toEqual({ n: 3 });
    expect(await strata.cached('orders', load, { ttl: 60, tags: ['table:public.orders'] })).toEqual({ n: 2 });
  });

  it('returns a stale value within staleWhileRevalidate and refreshes it in the background', async () => {
    const time = clock();
    const strata = make({ now: time.now });
    const load = counter();
    await strata.cached('s', load, { ttl: 10, staleWhileRevalidate: 30 });
    time.advance(15);
    expect(await strata.cached('s', load, { ttl: 10, staleWhileRevalidate: 30 })).toEqual({ n: 1 });
    await expect.poll(() => strata.cached('s', load, { ttl: 10, staleWhileRevalidate: 30 })).toEqual({ n: 2 });
  });

  it('takes a codec for values JSON cannot carry', async () => {
    const strata = make();
    const codec = { encode: (v: Uint8Array) => v, decode: (b: Uint8Array) => b };
    const bytes = Uint8Array.from([0, 255, 10, 13]);
    await strata.cached('bin', async () => bytes, { codec });
    expect(await strata.cached('bin', async () => new Uint8Array(), { codec })).toEqual(bytes);
  });

  it('uses the instance default TTL', async () => {
    const time = clock();
    const strata = make({ now: time.now, defaultTtl: 5 });
    const load = counter();
    await strata.cached('d', load);
    time.advance(6);
    expect(await strata.cached('d', load)).toEqual({ n: 2 });
  });

  it('rejects bad keys and tags clearly', async () => {
    const strata = make();
    await expect(strata.cached('', async () => 1)).rejects.toMatchObject({ code: 'E_KEY_INVALID' });
    await expect(strata.cached('k', async () => 1, { tags: ['a b'] })).rejects.toMatchObject({ code: 'E_TAG_INVALID' });
  });

  it('passes errors of the load through and caches nothing', async () => {
    const strata = make();
    await expect(strata.cached('e', async () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await strata.cached('e', async () => 'ok')).toBe('ok');
  });

  it('is off with enabled: false', async () => {
    const strata = make({ enabled: false });
    const load = counter();
    await strata.cached('x', load);
    await strata.cached('x', load);
    expect(load.calls).toBe(2);
  });
});
