import { StrataError } from '@strata/policy';
import { redisStore } from '@strata/server/redis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resilientStore } from '../../src/store/resilient.js';
import type { Store } from '../../src/store/types.js';
import { useRedisServer } from '../helpers/use-services.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const opened: Store[] = [];
let prefixes = 0;
const prefix = () => `strata-test:timers:${process.pid}:${++prefixes}`;

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

describe('the Redis store’s own connection on a real Redis (own server)', () => {
  const server = useRedisServer();

  it('gives its commands no timer of their own: node-redis would make an AbortSignal.timeout per command', async () => {
    const store = redisStore({ url: server().url, prefix: prefix() });
    opened.push(store);
    await store.write('warm', bytes('up'), 60, ['t']); // connected, scripts loaded
    const timers = vi.spyOn(AbortSignal, 'timeout');
    await store.write('k', bytes('v'), 60, ['a', 'b']);
    await store.bump(['a']);
    expect(await store.read('k', ['a', 'b'])).toEqual({ value: bytes('v'), versions: [1, 0] });
    expect(timers).not.toHaveBeenCalled();

    // The same commands through a client with node-redis's defaults do make one each: the spy sees them.
    const plain = createClient({ url: server().url });
    await plain.connect();
    try {
      await plain.get('anything');
      expect(timers).toHaveBeenCalled();
    } finally {
      await plain.close();
    }
  });

  it('a stalled server still fails each call within the resilient store’s timeout, and opens its circuit', async () => {
    const redis = server();
    const store = resilientStore(redisStore({ url: redis.url, prefix: prefix() }), {
      timeoutMs: 50,
      failureThreshold: 2,
    });
    opened.push(store);
    await store.write('k', bytes('v'), 60, []);
    redis.pause();
    try {
      for (let i = 0; i < 2; i++) {
        const started = performance.now();
        const error = await store.read('k', []).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StrataError);
        expect((error as StrataError).code).toBe('E_STORE_TIMEOUT');
        expect(performance.now() - started).toBeLessThan(1_000);
      }
      const refused = await store.read('k', []).catch((e: unknown) => e);
      expect((refused as StrataError).code).toBe('E_CIRCUIT_OPEN');
      expect(store.health()).toMatchObject({ circuit: 'open', timeouts: 2 });
    } finally {
      redis.resume();
    }
  });
});
