import type { RedisClientType, RedisClusterOptions, RedisClusterType } from 'redis';
import { loadPeer, requirePeer } from '../optional-peer.js';

/** Where `redisStore` and `redisBus` connect: a URL, a caller's client or cluster, or cluster options. */
export type RedisConnectionOptions =
  | { url: string; client?: never; cluster?: never }
  /** A node-redis client or cluster, connected by the caller, who also closes it. */
  | { client: RedisClientType | RedisClusterType; url?: never; cluster?: never }
  /**
   * A Redis Cluster (`createCluster` options, e.g. `{ rootNodes: [{ url }] }`). Its node
   * connections fail fast while disconnected (no offline queue) and reconnect with backoff
   * (`defaults.socket` may change that).
   */
  | { cluster: RedisClusterOptions; url?: never; client?: never };

/** The wait before reconnection attempt `retries` (from 0): 50 ms doubling, at most 1 s. */
export const reconnectDelay = (retries: number): number => Math.min(50 * 2 ** retries, 1_000);

/** How long one connection attempt may take before it counts as failed. */
const CONNECT_TIMEOUT_MS = 2_000;

/** A node-redis cluster (`createCluster`) rather than a client: it routes by key and has no SCAN of its own. */
export function isCluster(client: unknown): client is RedisClusterType {
  return typeof (client as { getNodeClientForKey?: unknown } | null)?.getNodeClientForKey === 'function';
}

/** How the connections `createRedis` makes time their commands out. */
export interface RedisTimeouts {
  /**
   * False: no timer per command. node-redis otherwise gives every command an `AbortSignal.timeout`
   * (5 s by default), which cannot be cancelled: each one lives its 5 s and fires, a signal, a timer
   * and an exception per command. Only for a caller that bounds every call itself (the resilient
   * store does, with its operation timeout and circuit). Default true.
   */
  commandTimeout?: boolean;
}

/**
 * Creates (does not connect) the client or cluster the options describe, importing `redis` only
 * now. Every connection fails fast while disconnected (no offline queue: the caller falls back at
 * once, to the origin or an outbox, instead of waiting) and reconnects with `reconnectDelay`.
 * Errors surface through failing commands; the 'error' event gets a listener so it never throws.
 * `neededBy` names the caller in the error when `redis` is not installed.
 */
export async function createRedis(
  options: { url: string } | { cluster: RedisClusterOptions },
  neededBy: string,
  timeouts: RedisTimeouts = {},
): Promise<RedisClientType | RedisClusterType> {
  const redis = await loadPeer('redis', neededBy, () => import('redis'));
  // node-redis runs a command without a timer when its timeout is 0.
  const commandOptions = timeouts.commandTimeout === false ? { commandOptions: { timeout: 0 } } : {};
  let created: RedisClientType | RedisClusterType;
  if ('cluster' in options) {
    const { defaults } = options.cluster;
    created = redis.createCluster({
      ...options.cluster,
      ...commandOptions,
      // The same settings for every node connection; `defaults.socket` may override them.
      defaults: {
        ...defaults,
        disableOfflineQueue: true,
        socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay, ...defaults?.socket },
      },
    }) as unknown as RedisClusterType;
  } else {
    created = redis.createClient({
      url: options.url,
      ...commandOptions,
      disableOfflineQueue: true,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay },
    }) as unknown as RedisClientType;
  }
  created.on('error', () => {});
  return created;
}

/** Where `redisStore` or `redisBus` gets its connection, as its options say. */
export interface RedisSource {
  /** True when the store or bus creates the connection, and so also closes it. */
  readonly owned: boolean;
  /** The caller's client or cluster as it is, or a new (not yet connected) one. */
  create(): Promise<RedisClientType | RedisClusterType>;
}

/**
 * Reads the connection options `redisStore` and `redisBus` share, when the store or bus is
 * created: without a caller's client, `redis` must be installed (`neededBy` names the caller in
 * the error that says it is not).
 */
export function redisSource(
  options: RedisConnectionOptions,
  neededBy: string,
  timeouts: RedisTimeouts = {},
): RedisSource {
  if (options.client) {
    const { client } = options;
    return { owned: false, create: async () => client };
  }
  requirePeer('redis', neededBy);
  return {
    owned: true,
    create: () => createRedis(options.cluster ? options : { url: options.url }, neededBy, timeouts),
  };
}
