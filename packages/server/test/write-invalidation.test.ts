import { memoryBus, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { collect, recordingPurger } from './helpers/purge-log.js';
import { get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();

const write = (method: string, path: string) => new Request(`http://app.test${path}`, { method, body: 'x' });
const answer = (status: number, headers: Record<string, string> = {}) =>
  origin(() => new Response(null, { status, headers }));
const xCache = async (strata: ReturnType<typeof make>, path: string, app = origin()) =>
  (await strata.handle(get(path), app)).headers.get('x-cache');

describe('write invalidation (RFC 9111 §4.4) travels like a purge', () => {
  it('a write through A invalidates the GET on B: per-instance memory stores, one shared memoryBus', async () => {
    const bus = memoryBus();
    const a = make({ bus, store: memoryStore() });
    const b = make({ bus, store: memoryStore() });
    const app = origin();
    for (const strata of [a, b]) {
      await strata.handle(get('/api/users/1'), app);
      expect(await xCache(strata, '/api/users/1', app)).toBe('HIT');
    }
    await a.handle(write('PUT', '/api/users/1'), answer(204));
    expect(await xCache(a, '/api/users/1', app)).toBe('MISS');
    await expect.poll(() => xCache(b, '/api/users/1', app)).toBe('MISS');
  });

  it('sends one purge event per write, naming the URL and its same-origin Location only', async () => {
    const bus = memoryBus();
    const strata = make({ bus });
    const log = collect(bus);
    await strata.handle(write('POST', '/api/users'), answer(201, { location: '/api/users/7' }));
    await strata.handle(
      write('PATCH', '/api/users/8'),
      answer(200, { 'content-location': 'https://elsewhere.test/api/users/8' }),
    );
    await expect.poll(() => log.purges().length).toBe(2);
    expect(log.purges().map(({ tags, keys, partition }) => ({ tags, keys, partition }))).toEqual([
      { tags: [], keys: ['http://app.test/api/users', 'http://app.test/api/users/7'], partition: undefined },
      { tags: [], keys: ['http://app.test/api/users/8'], partition: undefined },
    ]);
    expect((await strata.stats()).purges).toBe(2);
    log.close();
  });

  it('a failed write and a write to a URL the server cache does not hold publish nothing', async () => {
    const bus = memoryBus();
    const strata = make({ bus });
    const log = collect(bus);
    await strata.handle(write('PUT', '/api/users/1'), answer(500));
    await strata.handle(write('DELETE', '/api/users/1'), answer(404));
    await strata.handle(write('POST', '/auth/login'), answer(200));
    // A purge after them: once it has arrived, anything they had published would have too.
    const marker = await strata.purge({ tags: ['marker'] });
    await expect.poll(() => log.purges().map((e) => e.id)).toEqual([(marker as { id: string }).id]);
    log.close();
  });

  it('the CDN is not told of writes by default (a recording purger stands in for the CDN)', async () => {
    const purger = recordingPurger();
    const strata = make({ cdn: [purger] });
    await strata.handle(write('PUT', '/api/users/1'), answer(204));
    // The CDN hears of purges in order: once the later tag purge reached it, the write would have.
    await strata.purge({ tags: ['marker'] });
    await expect.poll(() => purger.calls.length).toBe(1);
    expect(purger.calls).toEqual([{ tags: ['marker'], urls: [], all: false }]);
  });

  it('with writeInvalidation.cdn the CDN is told the written URLs (a recording purger stands in for the CDN)', async () => {
    const purger = recordingPurger();
    const strata = make({ cdn: [purger], writeInvalidation: { cdn: true } });
    await strata.handle(write('PUT', '/api/users/1'), answer(204, { location: '/api/users/2' }));
    await expect
      .poll(() => purger.calls)
      .toEqual([{ tags: [], urls: ['http://app.test/api/users/1', 'http://app.test/api/users/2'], all: false }]);
  });
});
