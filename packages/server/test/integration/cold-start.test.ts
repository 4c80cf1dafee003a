import { defineManifest, serverCache } from '@strata/policy';
import { createStrata, type Strata } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { useRedisServer } from '../helpers/use-services.js';

const manifest = defineManifest({
  version: 1,
  routes: [{ match: '/api/items/:id', policy: serverCache(60, { tags: ['items'] }) }],
});

const get = (path: string) => new Request(`http://app.test${path}`);
const instances: Strata[] = [];
let prefixes = 0;
const prefix = () => `strata-test:cold:${process.pid}:${++prefixes}`;

afterEach(async () => {
  await Promise.all(instances.splice(0).map((strata) => strata.close()));
});

describe('cold start on a real Redis (own server)', () => {
  const server = useRedisServer();

  it('a request issued while the store connects waits for the connection instead of bypassing', async () => {
    const redis = server();
    let origin = 0;
    const app = () => new Response(`origin #${++origin}`);
    // The server accepts the connection but answers nothing until resumed: the connection opens
    // well after the 50 ms operation timeout.
    redis.pause();
    let strata: Strata;
    let first: Promise<Response>;
    try {
      strata = createStrata({
        manifest,
        store: redisStore({ url: redis.url, prefix: prefix() }),
        resilience: { timeoutMs: 50 },
      });
      instances.push(strata);
      first = strata.handle(get('/api/items/1'), app);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      redis.resume();
    }
    const response = await first;
    expect(response.headers.get('x-cache')).toBe('MISS');
    expect(response.headers.get('cache-status')).toMatch(/stored/);
    const again = await strata.handle(get('/api/items/1'), app);
    expect(again.headers.get('x-cache')).toBe('HIT');
    expect(await again.text()).toBe('origin #1');
    const stats = await strata.stats();
    expect(stats.store).toMatchObject({ failures: 0, timeouts: 0 });
    expect(stats.totals.bypass).toBe(0);
  });

  it('a first connection that does not open within connectTimeoutMs counts as a failure and bypasses', async () => {
    const redis = server();
    redis.pause();
    try {
      const strata = createStrata({
        manifest,
        store: redisStore({ url: redis.url, prefix: prefix() }),
        resilience: { timeoutMs: 50, connectTimeoutMs: 200 },
      });
      instances.push(strata);
      const response = await strata.handle(get('/api/items/2'), () => new Response('origin'));
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe('BYPASS');
      const stats = await strata.stats();
      expect(stats.store.timeouts).toBe(1);
      expect(stats.store.lastError?.message).toMatch(/did not connect within 200 ms/);
    } finally {
      redis.resume();
    }
  });
});
