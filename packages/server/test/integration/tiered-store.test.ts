import { type Bus, createStrata, type Strata, type StrataOptions } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { pairs } from '../../src/cache/entry.js';
import { internalsOf } from '../../src/internals.js';
import { useRedisServer } from '../helpers/use-services.js';
import { get, manifest, origin } from '../origin.js';

const redis = useRedisServer();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

let namespaces = 0;

/** One instance on the test's Redis: its store and purge log, in namespace `ns`. */
function instance(
  ns: string,
  options: Partial<StrataOptions> = {},
  wrap: (bus: Bus) => Bus = (bus) => bus,
): { strata: Strata; bus: Bus } {
  const { url } = redis();
  const bus = wrap(redisBus({ url, stream: `${ns}:purges`, blockMs: 200 }));
  const strata = createStrata({
    manifest,
    store: redisStore({ url, prefix: ns }),
    bus,
    resilience: { timeoutMs: 500, failureThreshold: 2, resetAfterMs: 100 },
    ...options,
  });
  cleanup.push(() => strata.close());
  return { strata, bus };
}

const ADMIN_TOKEN = 'an-admin-token-for-tests';

/** Two instances sharing one namespace (A with the admin API), and the origin they both call. */
function pair(name: string) {
  const ns = `${name}-${++namespaces}`;
  return { a: instance(ns, { admin: { token: ADMIN_TOKEN } }), b: instance(ns), app: origin(), ns };
}

/** A client of the test's own, for commands the instances do not make. */
async function admin() {
  const client = createClient({ url: redis().url });
  client.on('error', () => {});
  await client.connect();
  cleanup.push(async () => {
    if (client.isOpen) await client.close();
  });
  return client;
}

/** GET commands the server has run so far (entries and tag counters are both read with GET). */
async function gets(client: Awaited<ReturnType<typeof admin>>): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

/** Resolves once `bus` has delivered to this instance a purge naming `tag`. */
function delivered(bus: Bus, tag: string): Promise<void> {
  return new Promise((resolve) => {
    const subscription = bus.subscribe(undefined, (event) => {
      if (!event.all && event.tags.includes(tag)) {
        subscription.close();
        resolve();
      }
    });
  });
}

const xCache = async (strata: Strata, path: string, app = origin()) =>
  (await strata.handle(get(path), app)).headers.get('x-cache');

/**
 * Requests `path` until it is a hit, and with an L1 until the L1 answers it: the store and the
 * log connect in the background at start, and the L1 answers only once the log is followed.
 */
async function warm(strata: Strata, path: string, app = origin()): Promise<void> {
  const fromL1 = async () => {
    const before = (await strata.stats()).tiers?.l1.hits;
    const xcache = await xCache(strata, path, app);
    const after = (await strata.stats()).tiers?.l1.hits;
    return xcache === 'HIT' && (before === undefined || (after ?? 0) > before);
  };
  await expect.poll(fromL1, { timeout: 10_000 }).toBe(true);
}

describe('the two-tier cache on a real Redis', () => {
  it('answers a hot entry in process: no Redis command per hit', async () => {
    const { strata } = instance(`l1-hit-${++namespaces}`);
    await warm(strata, '/api/users/1');
    const client = await admin();
    const before = await gets(client);
    for (let i = 0; i < 20; i++) expect(await xCache(strata, '/api/users/1')).toBe('HIT');
    expect(await gets(client)).toBe(before);
    const { tiers } = await strata.stats();
    expect(tiers?.l1.hits).toBeGreaterThanOrEqual(20);
  });

  it('says which tier answered: `X-Cache-Level: REDIS` from Redis, `MEMORY` from the L1, on both paths', async () => {
    const ns = `l1-level-${++namespaces}`;
    // One instant for the whole test: the fast path's header blocks are kept per entry and second.
    const at = Date.now();
    const a = instance(ns, { now: () => at });
    const app = origin();
    await warm(a.strata, '/api/users/1', app);
    const full = await a.strata.handle(get('/api/users/1'), app);
    expect([full.headers.get('x-cache'), full.headers.get('x-cache-level')]).toEqual(['HIT', 'MEMORY']);

    // B has the entry only in Redis: its first hit reads it there, and keeps the same bytes in its L1.
    const b = instance(ns, { now: () => at });
    await expect.poll(() => b.bus.stats().connected, { timeout: 10_000 }).toBe(true);
    const fast = async () => {
      const answer = await internalsOf(b.strata)?.answerFromCache('GET', 'http://app.test/api/users/1', () => null);
      const fields = Object.fromEntries(pairs(answer?.fields ?? []));
      return {
        xcache: fields['x-cache'],
        level: fields['x-cache-level'],
        l1Hits: (await b.strata.stats()).tiers?.l1.hits,
      };
    };
    expect(await fast()).toEqual({ xcache: 'HIT', level: 'REDIS', l1Hits: 0 });
    expect(await fast()).toEqual({ xcache: 'HIT', level: 'MEMORY', l1Hits: 1 });
    const onB = await b.strata.handle(get('/api/users/1'), app);
    expect(onB.headers.get('x-cache-level')).toBe('MEMORY');
    expect(app.calls).toBe(1);
    // From the L1 the answer needs no promise (`answerNow`); an entry only Redis holds does.
    const now = internalsOf(b.strata)?.answerNow('GET', 'http://app.test/api/users/1', () => null);
    expect(Object.fromEntries(pairs(now?.fields ?? []))['x-cache-level']).toBe('MEMORY');
    const c = instance(ns, { now: () => at });
    expect(internalsOf(c.strata)?.answerNow('GET', 'http://app.test/api/users/1', () => null)).toBeUndefined();
  });

  it('with `l1: false`, every hit reads the entry and its tags from Redis', async () => {
    const { strata } = instance(`l1-off-${++namespaces}`, { l1: false });
    await warm(strata, '/api/users/1');
    const client = await admin();
    const before = await gets(client);
    for (let i = 0; i < 20; i++) expect(await xCache(strata, '/api/users/1')).toBe('HIT');
    // The entry, `users`, `user:1` and the URL tag: four GETs a hit.
    expect((await gets(client)) - before).toBe(20 * 4);
    // No tier in this process: only the promise-based fast path can tell.
    expect(internalsOf(strata)?.answerNow('GET', 'http://app.test/api/users/1', () => null)).toBeUndefined();
    expect((await strata.stats()).tiers).toBeUndefined();
    expect(await (await strata.metrics()).text()).not.toMatch(/strata_tier_reads_total|strata_l1_/);
  });

  it('exposes the tiers’ numbers on /metrics, as `/stats` reports them', async () => {
    const { strata } = instance(`l1-metrics-${++namespaces}`);
    const app = origin();
    /** The tier lines of a scrape, and the same numbers from the stats. */
    const scrape = async () => {
      const text = await (await strata.metrics()).text();
      const lines = text.split('\n').filter((line) => /^strata_(tier_|l1_)/.test(line));
      const tiers = (await strata.stats()).tiers;
      if (!tiers) throw new Error('an instance with an L1 reports its tiers');
      const expected = [
        `strata_tier_reads_total{tier="l1",result="hit"} ${tiers.l1.hits}`,
        `strata_tier_reads_total{tier="l1",result="miss"} ${tiers.l1.misses}`,
        `strata_tier_reads_total{tier="l2",result="hit"} ${tiers.l2.hits}`,
        `strata_tier_reads_total{tier="l2",result="miss"} ${tiers.l2.misses}`,
        `strata_l1_flushes_total ${tiers.flushes}`,
        `strata_l1_entries ${tiers.l1.entries}`,
        `strata_l1_bytes ${tiers.l1.bytes}`,
      ];
      return { lines, expected, tiers };
    };
    await warm(strata, '/api/users/1', app);
    for (let i = 0; i < 5; i++) await strata.handle(get('/api/users/1'), app);
    const first = await scrape();
    expect(first.tiers.l1).toMatchObject({ entries: 1 });
    expect(first.tiers.l1.hits).toBeGreaterThanOrEqual(6);
    expect(first.tiers.l2.misses).toBeGreaterThanOrEqual(1);
    expect(first.lines).toEqual(expect.arrayContaining(first.expected));

    // A second scrape adds only what happened since the first: a pattern purge empties the L1.
    const flushes = first.tiers.flushes;
    await strata.purge({ pattern: 'GET http://app.test/api/users/*' });
    await expect.poll(async () => (await strata.stats()).tiers?.flushes, { timeout: 10_000 }).toBe(flushes + 1);
    await strata.handle(get('/api/users/1'), app);
    const second = await scrape();
    expect(second.tiers.l2.misses).toBeGreaterThan(first.tiers.l2.misses);
    expect(second.lines).toEqual(expect.arrayContaining(second.expected));
  });

  it('with a log of this process only (the default memory bus), there is no L1: it could not hear other instances', async () => {
    const strata = createStrata({
      manifest,
      store: redisStore({ url: redis().url, prefix: `l1-local-${++namespaces}` }),
    });
    cleanup.push(() => strata.close());
    await warm(strata, '/api/users/1');
    expect((await strata.stats()).tiers).toBeUndefined();
  });

  it('a purge through A: A misses as soon as purge() resolves, B once the log has delivered it', async () => {
    const { a, b, app } = pair('l1-purge');
    await warm(a.strata, '/api/users/1', app);
    await warm(b.strata, '/api/users/1', app);
    const l1Hits = (await b.strata.stats()).tiers?.l1.hits ?? 0;
    expect(await xCache(b.strata, '/api/users/1', app)).toBe('HIT');
    expect((await b.strata.stats()).tiers?.l1.hits).toBe(l1Hits + 1);

    // Subscribed before the purge, so the delivery cannot be missed.
    const arrived = delivered(b.bus, 'user:1');
    await a.strata.purge({ tags: ['user:1'] });
    expect(await xCache(a.strata, '/api/users/1', app)).toBe('MISS');
    await arrived;
    const response = await b.strata.handle(get('/api/users/1'), app);
    expect(response.headers.get('x-cache')).toBe('HIT'); // A stored the new answer after its miss
    expect(await response.text()).toBe(`body ${app.calls}`);
  });

  it('a soft purge through A: A serves stale as soon as purge() resolves, not its L1 copy as fresh', async () => {
    // A's log delivers late, so its own event cannot be what makes the L1 forget.
    const late = (bus: Bus): Bus =>
      Object.assign(Object.create(bus) as Bus, {
        subscribe: (from: string | undefined, listener: Parameters<Bus['subscribe']>[1]) =>
          bus.subscribe(from, (event) => setTimeout(() => listener(event), event.tags.includes('users') ? 500 : 0)),
      });
    const a = instance(`l1-soft-${++namespaces}`, {}, late);
    const app = origin();
    await warm(a.strata, '/api/users', app);
    await a.strata.purge({ tags: ['users'], mode: 'soft' });
    const response = await a.strata.handle(get('/api/users'), app);
    expect(response.headers.get('x-cache')).toBe('STALE');
    expect(response.headers.get('cache-status')).toMatch(/detail=soft-purge$/);
    await new Promise((resolve) => setTimeout(resolve, 600)); // the late delivery lands before close
  });

  it('a pattern purge through A drops B’s whole L1, entries Redis no longer holds included', async () => {
    const { a, b, app, ns } = pair('l1-pattern');
    await warm(b.strata, '/api/users/2', app);
    // Redis drops the entry (as under memory pressure): B's L1 still has it.
    const client = await admin();
    const entries = await client.keys(`${ns}:e:*`);
    await client.del(entries);
    expect(await xCache(b.strata, '/api/users/2', app)).toBe('HIT');

    const flushes = (await b.strata.stats()).tiers?.flushes ?? 0;
    const id = new Promise<string>((resolve) => {
      const subscription = b.bus.subscribe(undefined, (event) => {
        if (event.pattern !== undefined) {
          subscription.close();
          resolve(event.id);
        }
      });
    });
    await a.strata.purge({ pattern: 'GET http://app.test/api/users/*' });
    await id;
    expect((await b.strata.stats()).tiers?.flushes).toBe(flushes + 1);
    expect(await xCache(b.strata, '/api/users/2', app)).toBe('MISS');
  });

  it('a clear-all through A empties A’s L1 before it resolves, and B’s when the log delivers it', async () => {
    const { a, b, app } = pair('l1-clear');
    await warm(a.strata, '/api/users/5', app);
    await warm(b.strata, '/api/users/5', app);
    const flushes = (await b.strata.stats()).tiers?.flushes ?? 0;
    const cleared = new Promise<void>((resolve) => {
      const subscription = b.bus.subscribe(undefined, (event) => {
        if (event.all) {
          subscription.close();
          resolve();
        }
      });
    });
    const response = await a.strata.admin(
      new Request('http://app.test/api/v1/cache/clear-all', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ confirm: 'clear-all' }),
      }),
    );
    expect(response.status).toBe(202);
    expect((await a.strata.stats()).tiers?.l1.entries).toBe(0);
    await cleared;
    expect((await b.strata.stats()).tiers).toMatchObject({ flushes: flushes + 1, l1: { entries: 0 } });
  });

  it('an entry removed through A’s admin API leaves B’s L1 too, once the log has delivered the removal', async () => {
    const { a, b, app, ns } = pair('l1-remove');
    await warm(a.strata, '/api/users/6', app);
    await warm(b.strata, '/api/users/6', app);
    const client = await admin();
    const [stored] = await client.keys(`${ns}:e:*`);
    const key = stored?.slice(`${ns}:e:`.length) ?? '';
    expect(key).toMatch(/^GET http:\/\/app\.test\/api\/users\/6/);

    const response = await a.strata.admin(
      new Request(`http://app.test/api/v1/cache/key/${encodeURIComponent(key)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
    );
    expect(await response.json()).toEqual({ deleted: true });
    // The log is ordered: once B has a purge made after the removal, it has applied the removal.
    const after = delivered(b.bus, 'later');
    await a.strata.purge({ tags: ['later'] });
    await after;
    const onB = await b.strata.handle(get('/api/users/6'), app);
    expect(onB.headers.get('x-cache')).toBe('MISS');
    expect(await onB.text()).toBe(`body ${app.calls}`);
    expect(await xCache(a.strata, '/api/users/6', app)).toBe('HIT'); // B stored the new answer
  });

  it('a reset of the log (it was lost while the reader was away) flushes the L1', async () => {
    const ns = `l1-reset-${++namespaces}`;
    const { strata, bus } = instance(ns);
    // A log with a purge in it, which this instance has read.
    const arrived = delivered(bus, 'users');
    await strata.purge({ tags: ['users'] });
    await arrived;
    await warm(strata, '/api/users/3');
    const before = (await strata.stats()).tiers;
    expect(before?.l1.entries).toBeGreaterThan(0);
    // The stream goes away and every connection drops: on reconnecting, the reader finds its
    // position gone and announces a reset. No request runs meanwhile, so only the reset flushes.
    const client = await admin();
    await client.del(`${ns}:purges`);
    await client.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    await expect
      .poll(async () => (await strata.stats()).tiers?.flushes, { timeout: 10_000 })
      .toBe((before?.flushes ?? 0) + 1);
    expect((await strata.stats()).tiers?.l1.entries).toBe(0);
  });

  it('while the log is unreachable nothing is answered from the L1', async () => {
    const server = redis();
    const { strata, bus } = instance(`l1-gap-${++namespaces}`);
    await warm(strata, '/api/users/4');
    await server.kill();
    try {
      await expect.poll(() => bus.stats().connected, { timeout: 10_000 }).toBe(false);
      const hits = (await strata.stats()).tiers?.l1.hits;
      // Redis is down: the store cannot answer either, so the request goes to the origin.
      expect(await xCache(strata, '/api/users/4')).toBe('BYPASS');
      const tiers = (await strata.stats()).tiers;
      expect(tiers?.l1.hits).toBe(hits);
      expect(tiers?.l1.entries).toBe(0);
    } finally {
      await server.restart();
    }
  });

  it('keeps at most `maxEntries` entries in process', async () => {
    const { strata } = instance(`l1-bound-${++namespaces}`, { l1: { maxEntries: 5 } });
    await warm(strata, '/api/users/0');
    for (let i = 1; i <= 20; i++) await strata.handle(get(`/api/users/${i}`), origin());
    expect((await strata.stats()).tiers?.l1).toMatchObject({ entries: 5, maxEntries: 5 });
  });
});
