import type { RedisClientType, RedisClusterType } from 'redis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisCluster, type RedisClusterOptions, startRedisCluster } from './redis-cluster.js';
import { type RedisServer, type RedisServerOptions, startRedisServer } from './redis-server.js';
import { startVarnish, type VarnishServer } from './varnish.js';

// Vitest lifecycles around the services the helpers start. The starters themselves import no
// test framework, so the end-to-end suite and the benchmarks use them too.

/**
 * Registers `beforeAll`/`afterAll` hooks that start and stop a service for the current file or
 * describe block; the returned function gives it once `beforeAll` has run.
 */
export function useService<T extends { stop(): Promise<void> }>(what: string, start: () => Promise<T>): () => T {
  let service: T | undefined;
  beforeAll(async () => {
    service = await start();
  });
  afterAll(async () => {
    await service?.stop();
  });
  return () => {
    if (!service) throw new Error(`${what} starts in beforeAll: call this inside a test or hook`);
    return service;
  };
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start and stop a private redis-server for the
 * current file or describe block; the returned function gives it once `beforeAll` has run.
 */
export function useRedisServer(options: RedisServerOptions = {}): () => RedisServer {
  return useService('the redis-server', () => startRedisServer(options));
}

/**
 * The Redis URL for suites that only need a Redis, not one they can kill: `REDIS_URL` when set
 * (CI may point at a shared server), otherwise a private server started for this file.
 */
export function redisUrlForTests(): () => string {
  const external = process.env.REDIS_URL;
  if (external) return () => external;
  const server = useRedisServer();
  return () => server().url;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start and stop a private varnishd for the current
 * file; `backendPort` is read in `beforeAll`, after the origin has started.
 */
export function useVarnish(backendPort: () => number): () => VarnishServer {
  return useService('varnishd', () => startVarnish({ backendPort: backendPort() }));
}

/**
 * Registers `beforeAll`/`afterAll` hooks that start and stop a private Redis Cluster for the
 * current file or describe block; the returned function gives it once `beforeAll` has run.
 */
export function useRedisCluster(options: RedisClusterOptions = {}): () => RedisCluster {
  return useService('the Redis Cluster', () => startRedisCluster(options));
}

/** What a node-redis client or cluster needs for `useCallerClient`. */
interface Connectable {
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  on(event: 'error', listener: () => void): unknown;
}

/**
 * A node-redis client or cluster the test connects in `beforeAll` and closes in `afterAll`, as an
 * app that hands Strata its own connection would. `client()` gives it as made; `given()` as the
 * `client` option of `redisStore` and `redisBus` types it.
 */
export function useCallerClient<C extends Connectable>(
  what: string,
  create: () => C,
): { client(): C; given(): RedisClientType | RedisClusterType } {
  const service = useService(what, async () => {
    const client = create();
    client.on('error', () => {});
    await client.connect();
    return {
      client,
      async stop() {
        await client.close();
      },
    };
  });
  return {
    client: () => service().client,
    given: () => service().client as unknown as RedisClientType | RedisClusterType,
  };
}
