import { memoryBus, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { collect, recordingPurger } from './helpers/purge-log.js';
import { get, origin, strataPerTest, writeManifest } from './origin.js';

const make = strataPerTest();
const withRules = (options: Parameters<typeof make>[0] = {}) => make({ manifest: writeManifest, ...options });

const write = (method: string, path: string) => new Request(`http://app.test${path}`, { method, body: '{}' });
const answer = (status: number) => origin(() => new Response(null, { status }));
const xCache = async (strata: ReturnType<typeof make>, path: string, app = origin()) =>
  (await strata.handle(get(path), app)).headers.get('x-cache');
const shape = (events: { tags: string[]; keys: string[]; partition?: string }[]) =>
  events.map(({ tags, keys, partition }) => ({ tags, keys, partition }));

describe('write rules in strata.handle', () => {
  it('a write through A purges its rules’ tags on B: per-instance memory stores, one shared memoryBus', async () => {
    const bus = memoryBus();
    const a = withRules({ bus, store: memoryStore() });
    const b = withRules({ bus, store: memoryStore() });
    const app = origin();
    for (const strata of [a, b]) {
      for (const path of ['/api/users', '/api/users/1', '/api/users/2']) {
        await strata.handle(get(path), app);
        expect(await xCache(strata, path, app)).toBe('HIT');
      }
    }
    await a.handle(write('PUT', '/api/users/1'), answer(204));
    // The list (tag `users`, a URL the write did not name) and the record are gone on both; user 2 stays.
    for (const strata of [a, b]) {
      await expect.poll(() => xCache(strata, '/api/users', app)).toBe('MISS');
      expect(await xCache(strata, '/api/users/1', app)).toBe('MISS');
      expect(await xCache(strata, '/api/users/2', app)).toBe('HIT');
    }
  });

  it('one event per write: the rules’ tags, the written URL and the handler’s own purges together', async () => {
    const bus = memoryBus();
    const strata = withRules({ bus });
    const log = collect(bus);
    const handler = origin(async () => {
      // What a query cache does when the handler writes a table.
      const inside = await strata.purge({ tags: ['table:public.users'] });
      expect(inside).toMatchObject({ batched: true });
      return new Response(null, { status: 204 });
    });
    await strata.handle(write('PUT', '/api/users/7'), handler);
    await expect.poll(() => log.purges().length).toBe(1);
    expect(shape(log.purges())).toEqual([
      { tags: ['table:public.users', 'user:7', 'users'], keys: ['http://app.test/api/users/7'], partition: undefined },
    ]);
    expect((await strata.stats()).purges).toBe(1);
    log.close();
  });

  it('a purge naming a partition made by the handler travels apart, to its user only', async () => {
    const bus = memoryBus();
    const strata = withRules({ bus });
    const log = collect(bus);
    const handler = origin(async () => {
      await strata.purge({ tags: ['me'], partition: 'alice' });
      return new Response(null, { status: 200 });
    });
    await strata.handle(write('PUT', '/api/users/1'), handler);
    await expect.poll(() => log.purges().length).toBe(2);
    expect(shape(log.purges())).toEqual([
      { tags: ['me'], keys: [], partition: 'alice' },
      { tags: ['user:1', 'users'], keys: ['http://app.test/api/users/1'], partition: undefined },
    ]);
    log.close();
  });

  it('a failed write purges no rule, but still sends what the handler purged; a thrown handler too', async () => {
    const bus = memoryBus();
    const strata = withRules({ bus });
    const log = collect(bus);
    await strata.handle(write('PUT', '/api/users/1'), answer(409));
    const failure = new Error('the handler failed after its write');
    const throwing = origin(async () => {
      await strata.purge({ tags: ['table:public.users'] });
      throw failure;
    });
    await expect(strata.handle(write('DELETE', '/api/users/1'), throwing)).rejects.toBe(failure);
    const marker = await strata.purge({ tags: ['marker'] });
    await expect
      .poll(() =>
        log
          .purges()
          .map((e) => e.id)
          .at(-1),
      )
      .toBe((marker as { id: string }).id);
    expect(log.purges().map((e) => e.tags)).toEqual([['table:public.users'], ['marker']]);
    log.close();
  });

  it('the CDN is told the rules’ tags, and the written URL only with writeInvalidation.cdn (a recording purger stands in for the CDN)', async () => {
    const quiet = recordingPurger();
    await withRules({ cdn: [quiet] }).handle(write('POST', '/api/users'), answer(201));
    await expect.poll(() => quiet.calls).toEqual([{ tags: ['users'], urls: [], all: false }]);
    const told = recordingPurger();
    await withRules({ cdn: [told], writeInvalidation: { cdn: true } }).handle(write('POST', '/api/users'), answer(201));
    await expect.poll(() => told.calls).toEqual([{ tags: ['users'], urls: ['http://app.test/api/users'], all: false }]);
  });

  it('answers the write with the route’s headers, after the purge is delivered: a read that follows is fresh', async () => {
    const strata = withRules();
    const app = origin();
    await strata.handle(get('/api/users/3'), app);
    const response = await strata.handle(write('PUT', '/api/users/3'), answer(200));
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await xCache(strata, '/api/users/3', app)).toBe('MISS');
  });
});
