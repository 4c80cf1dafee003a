import { defineManifest, noStore, serverCache } from '@strata/policy';
import { createStrata, type ResilienceOptions, type Strata } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { createClient } from 'redis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { keyNamespace } from '../helpers/key-namespace.js';
import { redisUrlForTests, useRedisServer } from '../helpers/use-services.js';

const manifest = defineManifest({
  version: 1,
  routes: [
    { match: '/api/items/:id', policy: serverCache(60, { tags: ['items', 'item:{id}'] }) },
    { match: '/api/items/:id', methods: ['POST', 'PUT', 'DELETE'], policy: noStore() },
    { match: '/api/pages/:id', policy: serverCache(60, { vary: ['accept-language'] }) },
  ],
});

/** A plain origin numbering its answers, so a cached body is told apart from a fresh one. */
function countingOrigin(name: string, status = 200) {
  const produced = new Set<string>();
  const origin = async (request: Request) => {
    origin.calls++;
    const url = new URL(request.url);
    const language = request.headers.get('accept-language');
    const body = `${name} ${request.method} ${url.pathname}${language ? ` [${language}]` : ''} #${origin.calls}`;
    produced.add(body);
    return new Response(body, { status: request.method === 'GET' ? 200 : status });
  };
  origin.calls = 0;
  origin.produced = produced;
  return origin;
}

const keys = keyNamespace('faults');
const nextPrefix = keys.next;

const instances: Strata[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((strata) => strata.close()));
});

/** A Strata instance on the Redis at `url`, closed after the test, and an origin to put behind it. */
function instanceOn(url: string, resilience: ResilienceOptions, prefix = nextPrefix()) {
  const strata = createStrata({ manifest, store: redisStore({ url, prefix }), resilience });
  instances.push(strata);
  return { strata, origin: countingOrigin('origin') };
}

// ---------------------------------------------------------------------------------------------

type Phase = 'warming' | 'killing' | 'down' | 'restarting' | 'up';

interface Sample {
  phase: Phase;
  path: string;
  status: number;
  body: string;
  xcache: string | null;
  cacheStatus: string | null;
  ms: number;
  error?: unknown;
}

describe('a real Redis that dies, hangs or grows (own server)', () => {
  const server = useRedisServer();

  it('serves every request while Redis is down (BYPASS), and hits again after it is back', async () => {
    const redis = server();
    const { strata, origin } = instanceOn(redis.url, { timeoutMs: 100, failureThreshold: 3, resetAfterMs: 200 });

    let phase: Phase = 'warming';
    let running = true;
    const samples: Sample[] = [];
    const worker = async (path: string) => {
      while (running) {
        const at = phase;
        const start = performance.now();
        try {
          const response = await strata.handle(new Request(`http://app.test${path}`), origin);
          samples.push({
            phase: at,
            path,
            status: response.status,
            body: await response.text(),
            xcache: response.headers.get('x-cache'),
            cacheStatus: response.headers.get('cache-status'),
            ms: performance.now() - start,
          });
        } catch (error) {
          samples.push({ phase: at, path, status: 0, body: '', xcache: null, cacheStatus: null, ms: 0, error });
        }
        // Pacing of the load generator, so a tight BYPASS loop does not starve the event loop.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    const workers = ['/api/items/1', '/api/items/2', '/api/items/1'].map(worker);
    const seen = (wanted: Phase, xcache: string, count = 1) =>
      vi.waitFor(
        () => {
          const matching = samples.filter((s) => s.phase === wanted && s.xcache === xcache).length;
          if (matching < count) throw new Error(`${matching}/${count} ${xcache} responses while ${wanted}`);
        },
        { timeout: 10_000, interval: 10 },
      );

    try {
      await seen('warming', 'HIT', 5);
      phase = 'killing';
      await redis.kill();
      phase = 'down';
      await seen('down', 'BYPASS', 30);
      phase = 'restarting';
      await redis.restart();
      phase = 'up';
      // Redis restarts empty: a MISS refills it, then HITs.
      await seen('up', 'HIT', 5);
    } finally {
      running = false;
      await Promise.all(workers);
    }

    // Zero failed responses: every one is the origin's 200 or a copy of one, for its own path.
    expect(samples.filter((s) => s.error !== undefined)).toEqual([]);
    for (const sample of samples) {
      expect(sample.status).toBe(200);
      expect(origin.produced.has(sample.body), sample.body).toBe(true);
      expect(sample.body).toMatch(new RegExp(`^origin GET ${sample.path} #\\d+$`));
    }
    // While Redis is down nothing is served from it, and nobody waits more than about one timeout.
    const down = samples.filter((s) => s.phase === 'down');
    expect(new Set(down.map((s) => s.xcache))).toEqual(new Set(['BYPASS']));
    for (const sample of down) {
      expect(sample.cacheStatus).toMatch(/strata; fwd=bypass/);
      expect(sample.ms).toBeLessThan(100 + 200);
    }
    // Once a hit is served again the store is healthy: no BYPASS after it.
    const up = samples.filter((s) => s.phase === 'up');
    const firstHit = up.findIndex((s) => s.xcache === 'HIT');
    expect(up.slice(firstHit).filter((s) => s.xcache === 'BYPASS')).toEqual([]);

    const stats = await strata.stats();
    expect(stats.storeErrors).toBeGreaterThanOrEqual(down.length);
    expect(stats.totals.bypass).toBe(samples.filter((s) => s.xcache === 'BYPASS').length);
    expect(stats.store).toMatchObject({ level: 'REDIS', circuit: 'closed', healthy: true });
    expect(stats.store.failures).toBeGreaterThanOrEqual(3);
    expect(stats.store.shortCircuited).toBeGreaterThan(0);
  });

  it('a Redis that hangs (CLIENT PAUSE): every request finishes within about the timeout, then hits again', async () => {
    const redis = server();
    const { strata, origin } = instanceOn(redis.url, { timeoutMs: 100, failureThreshold: 3, resetAfterMs: 200 });
    const get = async () => {
      const start = performance.now();
      const response = await strata.handle(new Request('http://app.test/api/items/1'), origin);
      return {
        status: response.status,
        body: await response.text(),
        xcache: response.headers.get('x-cache'),
        ms: performance.now() - start,
      };
    };
    // Warm until a hit: on a busy machine the first request may BYPASS while the client connects.
    const warm = await vi.waitFor(
      async () => {
        const sample = await get();
        if (sample.xcache !== 'HIT') throw new Error(`still ${sample.xcache}`);
        return sample;
      },
      { timeout: 10_000, interval: 10 },
    );

    // The server stops answering every client, this one included, until the pause runs out:
    // a hung server, not a dead one, so only the timeout protects the requests.
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.sendCommand(['CLIENT', 'PAUSE', '800', 'ALL']);
    const during: Awaited<ReturnType<typeof get>>[] = [];
    await vi.waitFor(
      async () => {
        const sample = await get();
        during.push(sample);
        if (sample.xcache !== 'HIT') throw new Error(`still ${sample.xcache}`);
      },
      { timeout: 10_000, interval: 10 },
    );
    await admin.close();

    for (const sample of during) {
      expect(sample.status).toBe(200);
      expect(sample.ms).toBeLessThan(100 + 200);
    }
    const bypassed = during.filter((s) => s.xcache === 'BYPASS');
    expect(bypassed.length).toBeGreaterThanOrEqual(3);
    for (const sample of bypassed) expect(sample.body).toMatch(/^origin GET \/api\/items\/1 #\d+$/);
    expect(during.at(-1)?.body).toBe(warm.body);
    const { store } = await strata.stats();
    expect(store.timeouts).toBeGreaterThanOrEqual(3);
    expect(store.circuit).toBe('closed');
  });

  it('with a large keyspace, polling stats() does not take the cache offline for requests', async () => {
    const redis = server();
    const prefix = nextPrefix();
    const resilience = { timeoutMs: 50, failureThreshold: 3, resetAfterMs: 5_000 };
    const { strata, origin } = instanceOn(redis.url, resilience, prefix);
    // 120,000 small entries in this instance's namespace, written inside Redis in one call.
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.eval("for i = 1, tonumber(ARGV[2]) do redis.call('SET', ARGV[1] .. i, 'x', 'EX', 600) end", {
      arguments: [`${prefix}:e:filler:`, '120000'],
    });
    await admin.close();

    const get = async () => {
      const response = await strata.handle(new Request('http://app.test/api/items/1'), origin);
      await response.text();
      return response.headers.get('x-cache');
    };
    await vi.waitFor(
      async () => {
        if ((await get()) !== 'HIT') throw new Error('not warm yet');
      },
      { timeout: 10_000, interval: 10 },
    );
    // A dashboard polling /stats: each call SCANs the namespace for the entry count.
    for (let i = 0; i < 3; i++) await strata.stats();
    expect(await get()).toBe('HIT');
    expect((await strata.stats()).store).toMatchObject({ circuit: 'closed', failures: 0 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('two instances sharing one Redis', () => {
  const redisUrl = redisUrlForTests();

  afterAll(() => keys.unlinkAll(redisUrl()));

  // These tests are about sharing, not timeouts: a cold connection on a busy machine can take
  // longer than the default 100 ms, which would (correctly) answer BYPASS.
  const resilience = { timeoutMs: 2_000 };

  /** Two Strata instances, as on two app servers: each its own client, one Redis and prefix. */
  function pair() {
    const prefix = nextPrefix();
    const make = (name: string) => {
      const strata = createStrata({ manifest, store: redisStore({ url: redisUrl(), prefix }), resilience });
      instances.push(strata);
      const origin = countingOrigin(name);
      const send = async (path: string, init: RequestInit = {}) => {
        const response = await strata.handle(new Request(`http://app.test${path}`, init), origin);
        return { status: response.status, xcache: response.headers.get('x-cache'), body: await response.text() };
      };
      return { strata, origin, send };
    };
    return { a: make('A'), b: make('B') };
  }

  it('a response cached through A is a HIT on B', async () => {
    const { a, b } = pair();
    expect(await a.send('/api/items/1')).toMatchObject({ xcache: 'MISS', body: 'A GET /api/items/1 #1' });
    const onB = await b.strata.handle(new Request('http://app.test/api/items/1'), b.origin);
    expect(onB.headers.get('x-cache')).toBe('HIT');
    expect(onB.headers.get('x-cache-level')).toBe('REDIS');
    expect(await onB.text()).toBe('A GET /api/items/1 #1');
    expect(b.origin.calls).toBe(0);
  });

  it('A.purge({ tags }) makes the entry a MISS on B at the next request, and only that entry', async () => {
    const { a, b } = pair();
    await a.send('/api/items/1');
    await a.send('/api/items/2');
    expect((await b.send('/api/items/1')).xcache).toBe('HIT');
    expect((await b.send('/api/items/2')).xcache).toBe('HIT');

    await a.strata.purge({ tags: ['item:1'] });
    expect(await b.send('/api/items/1')).toMatchObject({ xcache: 'MISS', body: 'B GET /api/items/1 #1' });
    expect((await b.send('/api/items/2')).xcache).toBe('HIT');
    expect(await a.send('/api/items/1')).toMatchObject({ xcache: 'HIT', body: 'B GET /api/items/1 #1' });

    await a.strata.purge({ tags: ['items'] });
    expect((await b.send('/api/items/1')).xcache).toBe('MISS');
    expect((await b.send('/api/items/2')).xcache).toBe('MISS');
  });

  it('A.purge({ keys: [path] }) invalidates every Vary variant on B', async () => {
    const { a, b } = pair();
    const en = { headers: { 'accept-language': 'en' } };
    const fr = { headers: { 'accept-language': 'fr' } };
    expect((await b.send('/api/pages/1', en)).xcache).toBe('MISS');
    expect((await b.send('/api/pages/1', fr)).xcache).toBe('MISS');
    expect((await b.send('/api/pages/2', en)).xcache).toBe('MISS');
    expect(await b.send('/api/pages/1', en)).toMatchObject({ xcache: 'HIT', body: 'B GET /api/pages/1 [en] #1' });
    expect(await a.send('/api/pages/1', fr)).toMatchObject({ xcache: 'HIT', body: 'B GET /api/pages/1 [fr] #2' });

    await a.strata.purge({ keys: ['/api/pages/1'] });
    expect((await b.send('/api/pages/1', en)).xcache).toBe('MISS');
    expect((await b.send('/api/pages/1', fr)).xcache).toBe('MISS');
    expect((await b.send('/api/pages/2', en)).xcache).toBe('HIT');
  });

  it('a successful POST through A invalidates the cached GET on B', async () => {
    const { a, b } = pair();
    await b.send('/api/items/1');
    expect((await b.send('/api/items/1')).xcache).toBe('HIT');
    expect((await a.send('/api/items/1', { method: 'POST', body: 'new' })).status).toBe(200);
    expect(await b.send('/api/items/1')).toMatchObject({ xcache: 'MISS', body: 'B GET /api/items/1 #2' });
  });

  it('a failed POST through A leaves the cached GET on B alone', async () => {
    const prefix = nextPrefix();
    const failing = createStrata({ manifest, store: redisStore({ url: redisUrl(), prefix }), resilience });
    const b = createStrata({ manifest, store: redisStore({ url: redisUrl(), prefix }), resilience });
    instances.push(failing, b);
    const origin = countingOrigin('origin', 500);
    const get = () => b.handle(new Request('http://app.test/api/items/1'), origin);
    await get();
    const post = await failing.handle(new Request('http://app.test/api/items/1', { method: 'POST' }), origin);
    expect(post.status).toBe(500);
    expect((await get()).headers.get('x-cache')).toBe('HIT');
  });
});
