import type { BatchedPurgeResult, Bus } from '@strata/server';
import { memoryBus, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { chaos } from './helpers/chaos.js';
import { collect } from './helpers/purge-log.js';
import { get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();

/** A bus whose publish can be made to fail, over a real memory bus. */
function flakyBus(inner: Bus = memoryBus()) {
  let down = false;
  const bus: Bus & { down(value: boolean): void } = {
    publish: (event) => (down ? Promise.reject(new Error('log unreachable')) : inner.publish(event)),
    subscribe: (from, listener) => inner.subscribe(from, listener),
    stats: () => inner.stats(),
    close: () => inner.close(),
    down: (value) => {
      down = value;
    },
  };
  return bus;
}

/** A bus whose deliveries wait for `release()`, as a log across the network answers later; publish is at once. */
function lateBus(inner: Bus = memoryBus()) {
  const held: (() => void)[] = [];
  const bus: Bus & { release(): void } = {
    publish: (event) => inner.publish(event),
    subscribe: (from, listener) => inner.subscribe(from, (event) => held.push(() => listener(event))),
    stats: () => inner.stats(),
    close: () => inner.close(),
    release: () => {
      for (const deliver of held.splice(0)) deliver();
    },
  };
  return bus;
}

/** An instance on `bus`, and the log's messages from its start. */
function logged<B extends Bus>(bus: B, options: Omit<Parameters<typeof make>[0] & object, 'bus'> = {}) {
  return { bus, strata: make({ ...options, bus }), log: collect(bus) };
}

describe('strata.purge', () => {
  it('bumps the store, appends one event to the log and returns its id', async () => {
    const { strata, log } = logged(memoryBus());
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    const result = await strata.purge({ tags: ['user:1'], keys: ['/api/users/1'] });
    expect(result.queued).toBe(false);
    expect(log.purges()).toEqual([
      expect.objectContaining({ id: result.id, tags: ['user:1'], keys: ['/api/users/1'] }),
    ]);
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
    log.close();
  });

  it('turns a table into its tag and a pattern into the matching keys', async () => {
    const { strata, log } = logged(memoryBus());
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    await strata.handle(get('/api/users/2'), app);
    await strata.handle(get('/api/lang'), app);
    await strata.purge({ table: 'Billing.Invoices' });
    await strata.purge({ table: 'users' });
    await strata.purge({ pattern: 'GET http://app.test/api/users/*' });
    const [billing, users, pattern] = log.purges();
    expect(billing?.tags).toEqual(['table:billing.invoices']);
    expect(users?.tags).toEqual(['table:public.users']);
    expect([...(pattern?.keys ?? [])].sort()).toEqual(['http://app.test/api/users/1', 'http://app.test/api/users/2']);
    expect((await strata.handle(get('/api/users/2'), app)).headers.get('x-cache')).toBe('MISS');
    expect((await strata.handle(get('/api/lang'), app)).headers.get('x-cache')).toBe('HIT');
    log.close();
  });

  it('rejects what is not a purge, naming the problem', async () => {
    const strata = make();
    await expect(strata.purge({})).rejects.toThrow(/needs tags, keys, a pattern or a table/);
    await expect(strata.purge({ table: 'users; drop table x' })).rejects.toMatchObject({ code: 'E_TABLE_INVALID' });
    await expect(strata.purge({ tags: ['a,b'] })).rejects.toMatchObject({ code: 'E_TAG_INVALID' });
    await expect(strata.purge({ keys: ['ftp://x'] })).rejects.toMatchObject({ code: 'E_URL_INVALID' });
    await expect(strata.purge({ tags: Array.from({ length: 1001 }, (_, i) => `t${i}`) })).rejects.toThrow(
      /at most 1000/,
    );
  });

  it('batch: purges inside are sent as one event with deduplicated tags', async () => {
    const { strata, log } = logged(memoryBus());
    const result = await strata.batch(async () => {
      await strata.purge({ tags: ['users', 'user:1'] });
      await strata.purge({ tags: ['users', 'user:2'], keys: ['/api/users'] });
      return 'done';
    });
    expect(result).toBe('done');
    expect(log.purges()).toHaveLength(1);
    expect(log.purges()[0]).toMatchObject({ tags: ['users', 'user:1', 'user:2'], keys: ['/api/users'] });
    log.close();
  });

  it('batch: each purge inside resolves at once, and its id resolves to the id of the one event sent', async () => {
    const { strata, log } = logged(memoryBus());
    const inside: unknown[] = [];
    await strata.batch(async () => {
      // Awaited inside the callback: resolving at once is what keeps this from waiting on itself.
      inside.push(await strata.purge({ tags: ['users'] }));
      inside.push(await strata.purge({ tags: ['user:1'], keys: ['/api/users/1'] }));
      expect(log.purges()).toHaveLength(0);
    });
    expect(log.purges()).toHaveLength(1);
    const sent = log.purges()[0]?.id;
    expect(inside).toEqual([
      expect.objectContaining({ batched: true, queued: true, tags: ['users'], keys: [] }),
      expect.objectContaining({ batched: true, queued: true, tags: ['user:1'], keys: ['/api/users/1'] }),
    ]);
    const ids = await Promise.all(inside.map((r) => (r as BatchedPurgeResult).id));
    expect(ids).toEqual([sent, sent]);
    log.close();
  });

  it('batch: purges naming a user are sent apart, one event per partition, each id its own event’s', async () => {
    const bus = memoryBus();
    const strata = make({ bus });
    const log = collect(bus);
    const inside: BatchedPurgeResult[] = [];
    await strata.batch(async () => {
      for (const request of [{ tags: ['users'] }, { tags: ['me'], partition: 'alice' }, { tags: ['user:1'] }]) {
        inside.push((await strata.purge(request)) as BatchedPurgeResult);
      }
    });
    const events = log.purges().map(({ id, tags, partition }) => ({ id, tags, partition }));
    expect(events).toEqual([
      { id: expect.any(String), tags: ['users', 'user:1'], partition: undefined },
      { id: expect.any(String), tags: ['me'], partition: 'alice' },
    ]);
    expect(await Promise.all(inside.map((r) => r.id))).toEqual([events[0]?.id, events[1]?.id, events[0]?.id]);
    log.close();
  });

  it('batch: when the callback throws nothing is sent and the purges’ ids reject with its error', async () => {
    const { strata, log } = logged(memoryBus());
    let batched: BatchedPurgeResult | undefined;
    const failure = new Error('the write failed');
    await expect(
      strata.batch(async () => {
        batched = (await strata.purge({ tags: ['users'] })) as BatchedPurgeResult;
        throw failure;
      }),
    ).rejects.toBe(failure);
    await expect(batched?.id).rejects.toBe(failure);
    await strata.purge({ tags: ['marker'] });
    await expect.poll(() => log.purges().map((e) => e.tags)).toEqual([['marker']]);
    log.close();
  });

  it('batch: a batch of pattern purges only is sent, with the keys the patterns matched', async () => {
    const { strata, log } = logged(memoryBus());
    const cached = () => strata.handle(get('/api/users/1'), origin());
    await cached();
    await strata.batch(async () => {
      await strata.purge({ pattern: 'GET http://app.test/api/users/*' });
    });
    expect(log.purges()).toEqual([expect.objectContaining({ tags: [], keys: ['http://app.test/api/users/1'] })]);
    expect((await cached()).headers.get('x-cache')).toBe('MISS');
    log.close();
  });

  it('an in-process store on another instance is invalidated through the log', async () => {
    const bus = memoryBus();
    const a = make({ bus, store: memoryStore() });
    const b = make({ bus, store: memoryStore() });
    const app = origin();
    await b.handle(get('/api/users/1'), app);
    expect((await b.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('HIT');
    await a.purge({ tags: ['user:1'] });
    await expect.poll(async () => (await b.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('clear-all drops the server entries and tells every reader to reset', async () => {
    const { strata, log } = logged(memoryBus(), { admin: { token: 'an-admin-token-for-tests' } });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    const response = await strata.admin(
      new Request('http://app.test/api/v1/cache/clear-all', {
        method: 'POST',
        headers: { authorization: 'Bearer an-admin-token-for-tests', 'content-type': 'application/json' },
        body: '{"confirm":"clear-all"}',
      }),
    );
    expect(response.status).toBe(202);
    expect(log.purges()).toEqual([expect.objectContaining({ all: true })]);
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
    log.close();
  });
});

describe('an instance’s own events, with an in-process store', () => {
  const ADMIN_TOKEN = 'an-admin-token-for-tests';
  const clearAll = (strata: ReturnType<typeof make>) =>
    strata.admin(
      new Request('http://app.test/api/v1/cache/clear-all', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"confirm":"clear-all"}',
      }),
    );

  it('bump each tag once in the purging instance’s store, and once in every other instance’s', async () => {
    const bus = memoryBus();
    const stores = [memoryStore(), memoryStore()];
    const [a] = stores.map((store) => make({ bus, store }));
    const log = collect(bus);
    const tags = ['users', 'user:1'];
    const before = await Promise.all(stores.map((store) => store.versions(tags)));
    await a?.purge({ tags: ['user:1'] });
    await a?.purge({ tags, mode: 'soft' });
    await expect.poll(() => log.purges().length).toBe(2);
    await new Promise((resolve) => setImmediate(resolve)); // the bumps the events started
    for (const [i, store] of stores.entries()) {
      expect(await store.versions(tags)).toEqual([(before[i]?.[0] ?? 0) + 1, (before[i]?.[1] ?? 0) + 2]);
    }
    log.close();
  });

  it('an entry stored between a purge and its event’s return from the log is still a hit', async () => {
    const bus = lateBus();
    const strata = make({ bus, store: memoryStore(), admin: { token: ADMIN_TOKEN } });
    const app = origin();
    const xCache = async (path: string) => (await strata.handle(get(path), app)).headers.get('x-cache');
    expect((await clearAll(strata)).status).toBe(202);
    expect(await xCache('/api/lang')).toBe('MISS'); // stored after the clear
    expect(await xCache('/api/users/1')).toBe('MISS');
    await strata.purge({ tags: ['user:1'] });
    expect(await xCache('/api/users/1')).toBe('MISS'); // stored again, under the version the purge made
    bus.release();
    await new Promise((resolve) => setImmediate(resolve)); // whatever the events started
    expect([await xCache('/api/users/1'), await xCache('/api/lang')]).toEqual(['HIT', 'HIT']);
  });

  it('a purge and a clear-all from another instance still reach the store', async () => {
    const bus = lateBus();
    const a = make({ bus, store: memoryStore(), admin: { token: ADMIN_TOKEN } });
    const b = make({ bus, store: memoryStore() });
    const app = origin();
    const xCache = async (path: string) => (await b.handle(get(path), app)).headers.get('x-cache');
    await xCache('/api/users/1');
    await xCache('/api/lang');
    await a.purge({ tags: ['user:1'] });
    bus.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await xCache('/api/users/1')).toBe('MISS');
    expect(await xCache('/api/lang')).toBe('HIT');
    expect((await clearAll(a)).status).toBe(202);
    bus.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await xCache('/api/lang')).toBe('MISS');
  });
});

describe('the outbox', () => {
  it('keeps purges made while the store is down, bypasses the cache meanwhile, and flushes in order', async () => {
    const store = chaos(memoryStore());
    const { strata, log } = logged(memoryBus(), { store, resilience: { timeoutMs: 50, failureThreshold: 100 } });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    store.fail();
    const first = await strata.purge({ tags: ['user:1'] });
    const second = await strata.purge({ tags: ['user:2'] });
    expect(first).toMatchObject({ queued: true });
    expect(second.queued).toBe(true);
    expect((await strata.stats()).outbox).toBe(2);
    store.ok();
    // The store answers again, but the purges have not reached it yet: reads bypass it.
    const during = await strata.handle(get('/api/users/1'), app);
    expect(['BYPASS', 'MISS']).toContain(during.headers.get('x-cache'));
    await expect.poll(async () => (await strata.stats()).outbox, { timeout: 5_000 }).toBe(0);
    expect(log.purges().map((e) => e.tags)).toEqual([['user:1'], ['user:2']]);
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
    log.close();
  });

  it('keeps events the log refused and delivers each once, in order', async () => {
    const { bus, strata, log } = logged(flakyBus());
    bus.down(true);
    for (let i = 0; i < 5; i++) expect((await strata.purge({ tags: [`t${i}`] })).queued).toBe(true);
    bus.down(false);
    await expect.poll(() => log.purges().length, { timeout: 5_000 }).toBe(5);
    expect(log.purges().map((e) => e.tags[0])).toEqual(['t0', 't1', 't2', 't3', 't4']);
    const after = await strata.purge({ tags: ['t5'] });
    expect(after.queued).toBe(false);
    expect(new Set(log.purges().map((e) => e.id)).size).toBe(6);
    log.close();
  });

  it('keeps the invalidation of an unsafe request made while the store is down', async () => {
    const store = chaos(memoryStore());
    const strata = make({ store, resilience: { timeoutMs: 50, failureThreshold: 100 } });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    store.fail();
    await strata.handle(new Request('http://app.test/api/users/1', { method: 'PUT', body: 'x' }), origin());
    store.ok();
    await expect.poll(async () => (await strata.stats()).outbox, { timeout: 5_000 }).toBe(0);
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
  });
});
