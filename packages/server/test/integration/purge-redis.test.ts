import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStrata, type MemoryStore, memoryStore, type PurgeEvent, type Strata } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import { redisBus, redisStore } from '@strata/server/redis';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { purgeData } from '../helpers/purge-data.js';
import { useRedisServer } from '../helpers/use-services.js';
import { get, manifest, origin, writeManifest } from '../origin.js';

const redis = useRedisServer();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

let streams = 0;
const ADMIN_TOKEN = 'an-admin-token-for-tests';
/**
 * One instance of the app on the shared Redis: store (or a memory store of its own), purge log and
 * an HTTP server for its purge stream.
 */
async function instance(
  stream: string,
  store: 'redis' | 'memory' | 'redis-without-l1' = 'redis',
  rules = manifest,
): Promise<{ strata: Strata; events: string }> {
  const { url } = redis();
  const strata = createStrata({
    manifest: rules,
    store: store === 'memory' ? memoryStore() : redisStore({ url, prefix: stream }),
    bus: redisBus({ url, stream, blockMs: 200 }),
    resilience: { timeoutMs: 500, failureThreshold: 2, resetAfterMs: 100 },
    ...(store === 'redis-without-l1' ? { l1: false as const } : {}),
  });
  const server: Server = createServer(nodeListener(strata, (request) => strata.events(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await strata.close();
  });
  return { strata, events: `http://127.0.0.1:${(server.address() as AddressInfo).port}/strata/events` };
}

describe('the purge channel across instances on a real Redis', () => {
  it('a purge through A reaches the SSE clients of B and invalidates what B serves', async () => {
    const stream = `purge-a-b-${++streams}`;
    const a = await instance(stream);
    const b = await instance(stream);
    const app = origin();
    // A read issued while B's store connects waits for it: the first is stored, the second a hit.
    const xCache = async () => (await b.strata.handle(get('/api/users/1'), app)).headers.get('x-cache');
    expect(await xCache()).toBe('MISS');
    expect(await xCache()).toBe('HIT');

    const received: { id: string; data: unknown }[] = [];
    const source = new EventSource(b.events);
    cleanup.push(async () => source.close());
    source.addEventListener('message', (e) => received.push({ id: e.lastEventId, data: JSON.parse(e.data) }));
    await new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true }));

    const purge = await a.strata.purge({ tags: ['user:1'] });
    await expect.poll(() => received).toEqual([{ id: purge.id, data: purgeData(['user:1']) }]);
    expect(await xCache()).toBe('MISS');
  });

  it('a PUT through A: B, with its own memory store, misses the GET, and B’s purge stream carries the purge', async () => {
    const stream = `write-a-b-${++streams}`;
    const a = await instance(stream, 'memory');
    const b = await instance(stream, 'memory');
    const app = origin();
    for (const { strata } of [a, b]) {
      await strata.handle(get('/api/users/1'), app);
      expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('HIT');
    }
    const received: unknown[] = [];
    const source = new EventSource(b.events);
    cleanup.push(async () => source.close());
    source.addEventListener('message', (e) => received.push(JSON.parse(e.data)));
    await new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true }));

    const put = new Request('http://app.test/api/users/1', { method: 'PUT', body: '{"name":"Ada"}' });
    await a.strata.handle(
      put,
      origin(() => new Response(null, { status: 204 })),
    );

    await expect.poll(() => received).toEqual([purgeData([], ['http://app.test/api/users/1'])]);
    await expect
      .poll(async () => (await b.strata.handle(get('/api/users/1'), app)).headers.get('x-cache'))
      .toBe('MISS');
  });

  it('a PUT with write rules through A: one event with the rules’ tags and the URL; B’s own store misses the record and the list', async () => {
    const stream = `write-rules-a-b-${++streams}`;
    const a = await instance(stream, 'memory', writeManifest);
    const b = await instance(stream, 'memory', writeManifest);
    const app = origin();
    for (const { strata } of [a, b]) {
      for (const path of ['/api/users', '/api/users/1']) {
        await strata.handle(get(path), app);
        expect((await strata.handle(get(path), app)).headers.get('x-cache')).toBe('HIT');
      }
    }
    const received: unknown[] = [];
    const source = new EventSource(b.events);
    cleanup.push(async () => source.close());
    source.addEventListener('message', (e) => received.push(JSON.parse(e.data)));
    await new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true }));

    const write = origin(async () => {
      await a.strata.purge({ table: 'users' }); // as the query cache does for the handler's UPDATE
      return new Response(null, { status: 204 });
    });
    await a.strata.handle(new Request('http://app.test/api/users/1', { method: 'PUT', body: '{"name":"Ada"}' }), write);

    await expect
      .poll(() => received)
      .toEqual([purgeData(['table:public.users', 'user:1', 'users'], ['http://app.test/api/users/1'])]);
    for (const path of ['/api/users', '/api/users/1']) {
      await expect.poll(async () => (await b.strata.handle(get(path), app)).headers.get('x-cache')).toBe('MISS');
    }
    // The log is ordered: once a later purge has arrived, a second event of the write would have too.
    await a.strata.purge({ tags: ['marker'] });
    await expect.poll(() => received.length).toBe(2);
    expect(received[1]).toEqual(purgeData(['marker']));
  });

  it('Redis killed while purges are made: they wait in the outbox, then arrive in order, none twice', async () => {
    const stream = `purge-outbox-${++streams}`;
    // About the outbox, so every read goes to Redis: an L1 may still answer an entry no waiting
    // purge names in the moment before it notices that the log is gone.
    const a = await instance(stream, 'redis-without-l1');
    const b = await instance(stream, 'redis-without-l1');
    const app = origin();
    await a.strata.handle(get('/api/users/7'), app);
    const messages: PurgeEvent[] = [];
    const { url } = redis();
    const listener = redisBus({ url, stream, blockMs: 200 });
    const subscription = listener.subscribe('0-0', (m) => messages.push(m)); // the whole log: no race with 'from now'
    cleanup.push(async () => {
      subscription.close();
      await listener.close();
    });
    const before = await a.strata.purge({ tags: ['before'] });
    await expect.poll(() => messages.length).toBe(1);

    await redis().kill();
    const queued = [];
    for (let i = 0; i < 5; i++) queued.push(await a.strata.purge({ tags: [`down-${i}`] }));
    expect(queued.every((r) => r.queued)).toBe(true);
    expect((await a.strata.stats()).outbox).toBe(5);
    // While the store cannot be trusted, requests are served by the origin.
    const during = await a.strata.handle(get('/api/users/7'), app);
    expect(during.status).toBe(200);
    expect(during.headers.get('x-cache')).toBe('BYPASS');

    await redis().restart();
    await expect.poll(async () => (await a.strata.stats()).outbox, { timeout: 10_000 }).toBe(0);
    const purges = () => messages.flatMap((m) => (m.all ? [] : [m.tags[0]]));
    await expect.poll(() => purges().at(-1), { timeout: 10_000 }).toBe('down-4');
    // The restart lost the log (no persistence). Whether the subscriber is told depends on when its
    // reader reconnects: after the outbox refilled the stream, every event it missed is in the new
    // stream and it loses nothing; before or while it refills, it sees the log gone and gets one
    // reset, which stands for what it skipped (it drops everything), then the rest in order.
    const order = messages.map((m) => (m.all ? 'reset' : m.tags[0]));
    const downs = ['down-0', 'down-1', 'down-2', 'down-3', 'down-4'];
    const rest = purges().slice(1);
    expect(purges()[0]).toBe('before');
    expect(rest).toEqual(downs.slice(downs.length - rest.length));
    const resets = messages.flatMap((m, i) => (m.all ? [i] : []));
    expect(resets.length).toBeLessThanOrEqual(1);
    if (rest.length < downs.length) expect(resets[0]).toBeLessThan(order.indexOf(rest[0] ?? 'down-4'));
    const ids = messages.flatMap((m) => (m.all ? [] : [m.id]));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toBe(before.id);
    expect((await b.strata.stats()).outbox).toBe(0);
  });
});

describe('in-process stores kept in step through the Redis log', () => {
  /** Two instances, each with a memory store of its own, on one purge log; A has the admin API. */
  function memoryPair(name: string) {
    const { url } = redis();
    const stream = `${name}-${++streams}`;
    const stores = { a: memoryStore(), b: memoryStore() };
    const make = (store: MemoryStore) =>
      createStrata({ manifest, store, bus: redisBus({ url, stream, blockMs: 200 }), admin: { token: ADMIN_TOKEN } });
    const a = make(stores.a);
    const b = make(stores.b);
    cleanup.push(async () => {
      await a.close();
      await b.close();
    });
    return { a, b, stores };
  }

  /**
   * Waits until both instances have applied every event published so far: each publishes a
   * marker purge, and the log is ordered, so once each marker's bump has reached the other
   * instance's store (only the log brings it there), that instance has received everything before.
   */
  async function caughtUp({ a, b, stores }: ReturnType<typeof memoryPair>): Promise<void> {
    const marker = `marker-${++streams}`;
    await a.purge({ tags: [`${marker}-a`] });
    await b.purge({ tags: [`${marker}-b`] });
    const reached = async () => [
      (await stores.a.versions([`${marker}-b`]))[0],
      (await stores.b.versions([`${marker}-a`]))[0],
    ];
    await expect.poll(reached, { timeout: 10_000 }).toEqual([1, 1]);
  }

  it('a purge bumps each tag once in the purging instance’s store and once in the other’s', async () => {
    const pair = memoryPair('own-events');
    const tags = ['users', 'user:3'];
    const before = await Promise.all([pair.stores.a.versions(tags), pair.stores.b.versions(tags)]);
    await pair.a.purge({ tags: ['user:3'] });
    await pair.a.purge({ tags, mode: 'soft' });
    await caughtUp(pair);
    for (const [i, store] of [pair.stores.a, pair.stores.b].entries()) {
      expect(await store.versions(tags)).toEqual([(before[i]?.[0] ?? 0) + 1, (before[i]?.[1] ?? 0) + 2]);
    }
  });

  it('an entry A stores between its purge and the event’s return from the log is still a hit', async () => {
    const pair = memoryPair('own-event-race');
    const app = origin();
    const xCache = async () => (await pair.a.handle(get('/api/users/3'), app)).headers.get('x-cache');
    expect(await xCache()).toBe('MISS');
    await pair.a.purge({ tags: ['user:3'] });
    expect(await xCache()).toBe('MISS'); // stored again, under the version the purge made
    await caughtUp(pair);
    expect(await xCache()).toBe('HIT');
  });

  it('a purge through A invalidates what B holds in its own memory store', async () => {
    const { a, b } = memoryPair('purge-memory');
    const app = origin();
    await b.handle(get('/api/users/3'), app);
    expect((await b.handle(get('/api/users/3'), app)).headers.get('x-cache')).toBe('HIT');
    await a.purge({ tags: ['user:3'] });
    await expect.poll(async () => (await b.handle(get('/api/users/3'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('an entry removed through A’s admin API leaves B’s own memory store too', async () => {
    const { a, b } = memoryPair('remove-memory');
    const app = origin();
    await b.handle(get('/api/users/3'), app);
    expect((await b.handle(get('/api/users/3'), app)).headers.get('x-cache')).toBe('HIT');
    const entry = (method: string) =>
      new Request(`http://app.test/api/v1/cache/key/${encodeURIComponent('GET http://app.test/api/users/3')}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
    expect((await a.admin(entry('DELETE'))).status).toBe(404); // A never stored it: the removal goes out anyway
    await expect.poll(async () => (await b.admin(entry('GET'))).status, { timeout: 10_000 }).toBe(404);
    expect((await b.handle(get('/api/users/3'), app)).headers.get('x-cache')).toBe('MISS');
  });
});
