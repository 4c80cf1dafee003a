import { defineManifest, serverCache } from '@strata/policy';
import { createStrata, type Strata } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { type ChaosStore, chaos } from '../helpers/chaos.js';
import { redisUrlForTests } from '../helpers/use-services.js';

// Purges waiting in the outbox bypass only what they name: a real Redis, with the store's bumps
// and clears failing (as they do when Redis times out under load) while its reads still answer.

const manifest = defineManifest({
  version: 1,
  routes: [{ match: '/api/items/:id', policy: serverCache(60, { tags: ['item:{id}'] }) }],
});
const TOKEN = 'outbox-bypass-token';
const url = (id: number) => `http://app.test/api/items/${id}`;

let prefixes = 0;
const instances: Strata[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((strata) => strata.close()));
});

describe('per-tag outbox bypass on a real Redis', () => {
  const redisUrl = redisUrlForTests();

  /** An instance on a chaos-wrapped Redis store, its origin numbering answers, and `get`. */
  async function setup() {
    const store: ChaosStore = chaos(
      redisStore({ url: redisUrl(), prefix: `strata-test:outbox:${process.pid}:${Date.now()}:${++prefixes}` }),
    );
    const strata = createStrata({
      manifest,
      store,
      admin: { token: TOKEN },
      resilience: { timeoutMs: 5_000, failureThreshold: 1_000 },
    });
    instances.push(strata);
    let calls = 0;
    const get = async (id: number) => {
      const response = await strata.handle(new Request(url(id)), () => new Response(`item ${id} #${++calls}`));
      return {
        xcache: response.headers.get('x-cache'),
        detail: /detail=([^;,]+)/.exec(response.headers.get('cache-status') ?? '')?.[1],
        body: await response.text(),
      };
    };
    for (const id of [1, 2, 3, 4]) {
      expect((await get(id)).xcache).toBe('MISS');
      expect((await get(id)).xcache).toBe('HIT');
    }
    return { store, strata, get };
  }

  it('serves what no waiting purge names; bypasses what one names by tag or by key, and what is newer than the failure', async () => {
    const { store, strata, get } = await setup();
    store.fail(['bump']);
    expect(await strata.purge({ tags: ['item:1'] })).toMatchObject({ queued: true });
    expect(await strata.purge({ keys: [url(2)] })).toMatchObject({ queued: true });

    for (const id of [1, 2]) {
      const named = await get(id);
      expect(named).toMatchObject({ xcache: 'BYPASS', detail: 'purge-pending' });
      expect(named.body).not.toBe(`item ${id} #${id}`); // never the copy stored before the purge
    }
    // Named by nothing waiting and stored before the failure: still a hit.
    expect(await get(3)).toMatchObject({ xcache: 'HIT', body: 'item 3 #3' });
    // Stored after the failure: its write cannot be ordered with the waiting bumps, so it is not served.
    expect((await get(5)).xcache).toBe('MISS');
    expect(await get(5)).toMatchObject({ xcache: 'BYPASS', detail: 'purge-pending' });

    store.ok();
    await strata.purge({ tags: ['item:4'] }); // waits behind the others, then flushes them
    await expect.poll(async () => (await strata.stats()).outbox, { timeout: 5_000 }).toBe(0);
    expect(await get(3)).toMatchObject({ xcache: 'HIT', body: 'item 3 #3' });
    expect((await get(5)).xcache).toBe('HIT');
    for (const id of [1, 2, 4]) expect((await get(id)).xcache).toBe('MISS');
  });

  it('a waiting pattern purge bypasses everything until it reaches the store', async () => {
    const { store, strata, get } = await setup();
    store.fail(['bump']);
    expect(await strata.purge({ pattern: '*/api/items/1' })).toMatchObject({ queued: true });
    for (const id of [1, 3]) expect(await get(id)).toMatchObject({ xcache: 'BYPASS', detail: 'purge-pending' });
    store.ok();
    await expect.poll(async () => (await strata.stats()).outbox, { timeout: 5_000 }).toBe(0);
    expect((await get(3)).xcache).toBe('HIT');
  });

  it('a clear-all the store refused waits, bypasses everything, and clears the store once it answers', async () => {
    const { store, strata, get } = await setup();
    store.fail(['clear']);
    const response = await strata.admin(
      new Request('http://app.test/api/v1/cache/clear-all', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ confirm: 'clear-all' }),
      }),
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ queued: true });
    for (const id of [1, 2, 3, 4]) expect(await get(id)).toMatchObject({ xcache: 'BYPASS', detail: 'purge-pending' });
    store.ok();
    await expect.poll(async () => (await strata.stats()).outbox, { timeout: 5_000 }).toBe(0);
    for (const id of [1, 2, 3, 4]) expect((await get(id)).xcache).toBe('MISS');
  });

  it('under concurrent reads and purges, no entry a waiting purge names is served', async () => {
    const { store, strata } = await setup();
    const purged = new Set<number>();
    let served = 0;
    store.fail(['bump']);
    const reads = Array.from({ length: 200 }, async (_, i) => {
      const id = 1 + (i % 8);
      if (i % 10 === 0) {
        await strata.purge({ tags: [`item:${id}`] });
        purged.add(id);
      }
      const wasPurged = purged.has(id);
      const response = await strata.handle(new Request(url(id)), () => new Response(`fresh ${id}`));
      const body = await response.text();
      if (wasPurged) expect(body).toBe(`fresh ${id}`);
      if (response.headers.get('x-cache') === 'HIT') served++;
    });
    await Promise.all(reads);
    expect(purged.size).toBeGreaterThan(0);
    expect(served).toBeGreaterThan(0); // what no purge named kept its cache
  });
});
