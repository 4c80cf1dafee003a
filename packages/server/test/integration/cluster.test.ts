import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:net';
import { createStrata, type Strata } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { createClient, createCluster } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ZERO_ID } from '../../src/bus/ids.js';
import { busContract, event, watch } from '../helpers/bus-contract.js';
import { bytes, storeContract, text } from '../helpers/store-contract.js';
import { useCallerClient, useRedisCluster } from '../helpers/use-services.js';
import { get, manifest, origin } from '../origin.js';

// A private cluster of three masters (no replicas), started for this file.
const cluster = useRedisCluster();

/** The URL of node `i` (mod the node count): instances below connect through different nodes. */
const nodeUrl = (i: number): string => {
  const { urls } = cluster();
  const url = urls[i % urls.length];
  if (url === undefined) throw new Error('the cluster has no nodes');
  return url;
};
const rootNodes = (i: number) => [{ url: nodeUrl(i) }];

// ---- a wrong route fails the test that caused it ---------------------------------------------

/**
 * Every command error node-redis reports in this process (its diagnostics channels see the
 * commands of every client and cluster, including the bus reader's, whose errors are retried
 * silently) that means a command crossed slots or went to the wrong node.
 */
const misrouted: string[] = [];
const WRONG_ROUTE = /CROSSSLOT|MOVED|ASK|EXECABORT/;
const onError = (message: unknown) => {
  const { error } = message as { error?: unknown };
  const replies = (error as { replies?: unknown } | undefined)?.replies;
  for (const item of [error, ...(Array.isArray(replies) ? replies : [])]) {
    if (item instanceof Error && WRONG_ROUTE.test(item.message)) misrouted.push(item.message);
  }
};
// The error events of node-redis's tracing channels `node-redis:command` and `node-redis:batch` (MULTI).
const channels = ['tracing:node-redis:command:error', 'tracing:node-redis:batch:error'];
beforeAll(() => {
  for (const channel of channels) subscribe(channel, onError);
});
afterAll(() => {
  for (const channel of channels) unsubscribe(channel, onError);
});
afterEach(() => {
  expect(misrouted.splice(0), 'commands sent across slots or to the wrong node').toEqual([]);
});

/** What each node holds under `match`, by SCAN on a plain client to that node. */
async function keysPerNode(match: string): Promise<string[][]> {
  return Promise.all(
    cluster().urls.map(async (url) => {
      const client = createClient({ url });
      client.on('error', () => {});
      await client.connect();
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: match, COUNT: 1000 })) keys.push(...batch);
      client.destroy();
      return keys;
    }),
  );
}

it('the route check sees a CROSSSLOT error, so any test that caused one would fail', async () => {
  const client = createClient({ url: nodeUrl(0) });
  client.on('error', () => {});
  await client.connect();
  // `a` and `b` hash to slots 15495 and 3300: different slots, and different masters.
  await expect(client.sendCommand(['MSET', 'a', '1', 'b', '2'])).rejects.toThrow(/CROSSSLOT/);
  await expect(client.multi().set('a', '1').set('b', '2').exec()).rejects.toThrow();
  client.destroy();
  expect(misrouted.some((message) => message.startsWith('CROSSSLOT'))).toBe(true);
  expect(misrouted.some((message) => /MOVED|EXECABORT/.test(message))).toBe(true);
  misrouted.length = 0;
});

// ---- the contract suites ---------------------------------------------------------------------

let stores = 0;
// No hash tag in the prefix: entries and tag counters spread over the masters.
storeContract('redisStore on Redis Cluster', (options) => {
  const n = ++stores;
  return redisStore({ cluster: { rootNodes: rootNodes(n) }, prefix: `contract:${n}`, ...options });
});

let streams = 0;
// No hash tag in the stream name either: every bus command names only the stream.
busContract('redisBus on Redis Cluster', (options) => {
  const n = ++streams;
  return redisBus({ cluster: { rootNodes: rootNodes(n) }, stream: `purges:${n}`, ...options });
});

describe('with a cluster client the caller made (RESP2)', () => {
  const caller = useCallerClient('the cluster client', () => createCluster({ rootNodes: rootNodes(2), RESP: 2 }));
  const client = caller.given;

  busContract('redisBus (given cluster, RESP2)', (options) =>
    redisBus({ client: client(), stream: `given:${++streams}`, ...options }),
  );

  it('redisStore and redisBus leave the given cluster open when they close', async () => {
    const store = redisStore({ client: client(), prefix: `given:${++stores}` });
    const bus = redisBus({ client: client(), stream: `given:${++streams}` });
    await store.write('k', bytes('v'), 60, ['t']);
    expect(text((await store.read('k', ['t'])).value)).toBe('v');
    const w = watch(bus, undefined);
    const id = await bus.publish(event());
    await w.untilCount(1);
    expect(w.ids()).toEqual([id]);
    await Promise.all([store.close(), bus.close()]);
    expect(caller.client().isReady).toBe(true);
    expect(await caller.client().get(`given:${stores}:e:k`)).toBe('v');
  });
});

// ---- what only a cluster can show ----------------------------------------------------------

describe('redisStore across the masters', () => {
  it('spreads entries and tag counters over every master; keys(), clear() and size() cover them all', async () => {
    const prefix = 'spread';
    const store = redisStore({ cluster: { rootNodes: rootNodes(0) }, prefix });
    const keys = Array.from({ length: 60 }, (_, i) => `GET /spread/${i}`);
    await Promise.all(keys.map((key, i) => store.write(key, bytes(key), 60, ['spread', `item:${i}`])));
    const sorted = (list: readonly string[]) => [...list].sort();

    // A store that sent everything to the node it first connected to would leave two masters empty.
    const entries = await keysPerNode(`${prefix}:e:*`);
    const tags = await keysPerNode(`${prefix}:t:*`);
    expect(entries.map((node) => node.length > 0)).toEqual([true, true, true]);
    expect(tags.map((node) => node.length > 0)).toEqual([true, true, true]);
    expect(entries.flat()).toHaveLength(60);

    expect(sorted(await store.keys('*', 1_000))).toEqual(sorted(keys));
    expect(sorted(await store.keys('GET /spread/1*', 1_000))).toEqual(
      sorted(keys.filter((key) => key.startsWith('GET /spread/1'))),
    );
    // The limit holds across masters, whether it is reached on the first one or not.
    for (const limit of [0, 1, 7, 25, 59, 60, 61]) {
      const some = await store.keys('*', limit);
      expect(some).toHaveLength(Math.min(limit, 60));
      expect(new Set(some).size).toBe(some.length);
    }

    const size = await store.size();
    expect(size.entries).toBe(60);
    const used = await Promise.all(
      cluster().urls.map(async (url) => {
        const client = createClient({ url });
        client.on('error', () => {});
        await client.connect();
        const info = await client.info('memory');
        client.destroy();
        return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      }),
    );
    expect(size.bytes).toBeGreaterThan(Math.max(...used)); // the sum over the masters, not one of them

    await store.bump(['spread']);
    await store.clear();
    expect((await keysPerNode(`${prefix}:e:*`)).flat()).toEqual([]);
    expect(await store.keys('*', 100)).toEqual([]);
    expect((await store.size()).entries).toBe(0);
    expect(await store.versions(['spread', 'item:0'])).toEqual([1, 0]); // tag counters stay
    await store.close();
  });
});

describe('redisBus across the nodes', () => {
  it('a purge published through one node reaches the subscribers connected through the others, in one order', async () => {
    const stream = 'purges:across';
    const buses = cluster().urls.map((url) => redisBus({ cluster: { rootNodes: [{ url }] }, stream, blockMs: 500 }));
    try {
      // From the start of the (new) stream: no race with each reader's "from now".
      const watches = buses.map((bus) => watch(bus, ZERO_ID));
      const ids: string[] = [];
      for (const bus of buses) ids.push(await bus.publish(event()));
      await Promise.all(watches.map((w) => w.untilCount(ids.length)));
      for (const w of watches) {
        expect(w.ids()).toEqual(ids);
        expect(w.resets()).toEqual([]);
      }
      // Live, after the replay: each one's next publish reaches all three.
      const live: string[] = [];
      for (const bus of buses) live.push(await bus.publish(event()));
      await Promise.all(watches.map((w) => w.untilCount(ids.length + live.length)));
      for (const w of watches) expect(w.ids()).toEqual([...ids, ...live]);
      // The stream is one key on one master: two of the three buses published through a node that does not hold it.
      expect((await keysPerNode(stream)).map((node) => node.length).sort()).toEqual([0, 0, 1]);
    } finally {
      await Promise.all(buses.map((bus) => bus.close()));
    }
  });
});

/**
 * Moves the slot of `key` to the next master the way `redis-cli --cluster reshard` does
 * (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE everywhere). Returns the old and new owner.
 */
async function moveSlotOf(key: string): Promise<{ from: number; to: number }> {
  const { urls, ports } = cluster();
  const clients = await Promise.all(
    urls.map(async (url) => {
      const client = createClient({ url });
      client.on('error', () => {});
      await client.connect();
      return client;
    }),
  );
  try {
    const on = (i: number) => {
      const client = clients[i];
      if (!client) throw new Error(`no node ${i}`);
      return client;
    };
    const slot = String(await on(0).sendCommand(['CLUSTER', 'KEYSLOT', key]));
    const ids = (await Promise.all(clients.map((client) => client.sendCommand(['CLUSTER', 'MYID'])))).map(String);
    const counts = await Promise.all(clients.map((client) => client.sendCommand(['CLUSTER', 'COUNTKEYSINSLOT', slot])));
    const from = counts.findIndex((count) => Number(count) > 0);
    const to = (from + 1) % clients.length;
    const [fromId, toId] = [ids[from] ?? '', ids[to] ?? ''];
    await on(to).sendCommand(['CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId]);
    await on(from).sendCommand(['CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId]);
    const keys = (await on(from).sendCommand(['CLUSTER', 'GETKEYSINSLOT', slot, '1000'])) as string[];
    await on(from).sendCommand(['MIGRATE', '127.0.0.1', String(ports[to]), '', '0', '5000', 'KEYS', ...keys]);
    for (const i of [to, from, ...clients.keys()]) await on(i).sendCommand(['CLUSTER', 'SETSLOT', slot, 'NODE', toId]);
    return { from, to };
  } finally {
    for (const client of clients) client.destroy();
  }
}

describe('redisBus while its stream changes masters', () => {
  it('the stream’s slot moving to another master loses, repeats and resets nothing', async () => {
    const stream = 'purges:moving';
    const [publisher, listener] = [0, 1].map((i) =>
      redisBus({ cluster: { rootNodes: rootNodes(i) }, stream, blockMs: 200 }),
    );
    if (!publisher || !listener) throw new Error('two buses');
    try {
      const w = watch(listener, ZERO_ID);
      const before: string[] = [];
      for (let i = 0; i < 3; i++) before.push(await publisher.publish(event()));
      await w.untilCount(3);

      const { from, to } = await moveSlotOf(stream);
      expect((await keysPerNode(stream)).map((node) => node.length)).toEqual(
        cluster().urls.map((_, i) => (i === to ? 1 : 0)),
      );
      expect(to).not.toBe(from);
      // Both buses still route to the old master: each command answered MOVED is sent again
      // through the cluster's own routing, which follows it and learns the new slot map.
      const after: string[] = [];
      for (let i = 0; i < 3; i++) after.push(await publisher.publish(event()));
      await w.untilCount(6);
      expect(w.ids()).toEqual([...before, ...after]);
      expect(w.resets()).toEqual([]);
      const replay = watch(listener, before[0]);
      await replay.untilCount(5);
      expect(replay.ids()).toEqual([...before.slice(1), ...after]);
    } finally {
      await Promise.all([publisher.close(), listener.close()]);
    }
    // The redirects this test provoked on purpose (there were some); anything else still fails it.
    expect(misrouted.some((message) => message.startsWith('MOVED '))).toBe(true);
    expect(misrouted.filter((message) => !/^(MOVED|ASK) /.test(message))).toEqual([]);
    misrouted.length = 0;
  });
});

describe('a cluster that cannot be reached', () => {
  it('fails fast: publish rejects with E_BUS_UNAVAILABLE, store calls reject, close() is prompt', async () => {
    // A port nothing listens on: the first discovery fails, and so does every retry.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const nowhere = { rootNodes: [{ url: `redis://127.0.0.1:${port}` }] };
    const bus = redisBus({ cluster: nowhere, stream: 'purges:nowhere' });
    const store = redisStore({ cluster: nowhere, prefix: 'nowhere' });
    const subscription = bus.subscribe(undefined, () => {});
    const started = performance.now();
    await expect(bus.publish(event())).rejects.toMatchObject({ name: 'StrataError', code: 'E_BUS_UNAVAILABLE' });
    await expect(store.read('k', ['t'])).rejects.toThrow();
    expect(bus.stats().connected).toBe(false);
    subscription.close();
    await Promise.all([bus.close(), store.close()]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('createStrata on the cluster', () => {
  it('a tag purged through instance A is a miss on instance B, and B hears of it', async () => {
    const instance = (i: number): Strata =>
      createStrata({
        manifest,
        store: redisStore({ cluster: { rootNodes: rootNodes(i) }, prefix: 'app' }),
        bus: redisBus({ cluster: { rootNodes: rootNodes(i) }, stream: 'app:purges', blockMs: 200 }),
        // Generous: the first request may wait for the cluster connection.
        resilience: { timeoutMs: 2_000 },
      });
    const a = instance(0);
    const b = instance(1);
    try {
      const app = origin();
      await b.handle(get('/api/users/1'), app);
      await b.handle(get('/api/users/2'), app);
      expect((await b.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('HIT');
      expect((await a.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('HIT'); // one shared store

      const purge = await a.purge({ tags: ['user:1'] });
      expect(purge.queued).toBe(false);
      // B answers hot entries from its in-process L1, which stops serving a purged one when B's
      // log reader delivers the event (docs/architecture.md, consistency bounds): wait for that.
      await expect.poll(async () => (await b.stats()).bus.lastId).toBe(purge.id);
      expect((await b.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
      expect((await b.handle(get('/api/users/2'), app)).headers.get('x-cache')).toBe('HIT');

      for (const strata of [a, b]) {
        const stats = await strata.stats();
        expect(stats.storeErrors).toBe(0);
        expect(stats.outbox).toBe(0);
        expect(stats.bus.connected).toBe(true);
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
