import { createStrata, memoryStore, type PurgeEvent, type Strata } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../helpers/use-services.js';
import { barrier, get, manifest, origin } from '../origin.js';

const redis = useRedisServer();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

let streams = 0;
/** One instance on the shared Redis purge log, with the shared Redis store or a memory store of its own. */
function instance(stream: string, store: 'redis' | 'memory' = 'redis'): Strata {
  const { url } = redis();
  const strata = createStrata({
    manifest,
    store: store === 'redis' ? redisStore({ url, prefix: stream }) : memoryStore(),
    bus: redisBus({ url, stream, blockMs: 200 }),
    resilience: { timeoutMs: 500 },
  });
  cleanup.push(() => strata.close());
  return strata;
}

/** Instances A and B on one log, B with `/api/users` stored (`bStore`: B's store). */
async function pair(bStore: 'redis' | 'memory' = 'redis') {
  const stream = `soft-${++streams}`;
  const a = instance(stream);
  const b = instance(stream, bStore);
  const app = origin();
  await b.handle(get('/api/users'), app);
  return { stream, a, b, app };
}

describe('soft purge across instances on a real Redis', () => {
  it('a soft purge through A: B serves stale with Cache-Status saying so, one refresh each, then fresh', async () => {
    const { a, b, app } = await pair();
    expect((await a.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('HIT');

    await a.purge({ tags: ['users'], mode: 'soft' });
    const { gate, release } = barrier();
    app.respond = async (_request, call) => {
      await gate;
      return new Response(`body ${call}`);
    };
    for (const strata of [b, b, a]) {
      const stale = await strata.handle(get('/api/users'), app);
      expect(stale.headers.get('x-cache')).toBe('STALE');
      expect(stale.headers.get('cache-status')).toMatch(/^strata; hit; ttl=-\d+; detail=soft-purge$/);
      expect(await stale.text()).toBe('body 1');
    }
    // Three stale answers, and while they were served one refresh per instance at most: each is
    // a single flight over its own requests.
    expect(app.calls).toBeGreaterThanOrEqual(2);
    expect(app.calls).toBeLessThanOrEqual(3);
    release();
    await expect.poll(async () => (await b.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('HIT');
    const fresh = await a.handle(get('/api/users'), app);
    expect(fresh.headers.get('x-cache')).toBe('HIT');
    expect(fresh.headers.get('cache-status')).toMatch(/^strata; hit; ttl=\d+$/);
    expect(await fresh.text()).not.toBe('body 1');
  });

  it('a hard purge through A after a soft one: B misses', async () => {
    const { a, b, app } = await pair();
    await a.purge({ tags: ['users'], mode: 'soft' });
    await a.purge({ tags: ['users'] });
    expect((await b.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('the event carries the mode through the log, and an instance with a memory store applies it soft', async () => {
    const { stream, a, b, app } = await pair('memory');
    const seen: PurgeEvent[] = [];
    const { url } = redis();
    const bus = redisBus({ url, stream, blockMs: 200 });
    cleanup.push(() => bus.close());
    const subscription = bus.subscribe('0-0', (event) => seen.push(event));
    cleanup.push(async () => subscription.close());
    await a.purge({ keys: ['/api/users'], mode: 'soft' });
    await expect.poll(() => seen.length).toBe(1);
    expect(seen[0]).toMatchObject({ keys: ['/api/users'], mode: 'soft' });
    await expect.poll(async () => (await b.handle(get('/api/users'), app)).headers.get('x-cache')).toBe('STALE');
  });
});
