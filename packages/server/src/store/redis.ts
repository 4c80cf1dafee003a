import type { RedisClientType } from 'redis';
import { globToRedisMatch } from './glob.js';
import { type Store, type StoreRead, TAG_GRACE_SECONDS } from './types.js';

type RedisClient = RedisClientType;

export type RedisStoreOptions = ({ url: string; client?: never } | { client: RedisClient; url?: never }) & {
  /** Namespace of every key this store writes. Default `strata`. */
  prefix?: string;
  /** Largest value stored, in bytes; larger writes are skipped. Default 8 MiB. */
  maxValueBytes?: number;
  /** How long a tag counter outlives its entries (covers origin fetches in flight). Default 600 s. */
  tagGraceSeconds?: number;
};

/**
 * Redis (node-redis) as the shared server cache. Every command touches one key, so the store
 * also runs against Redis Cluster without cross-slot errors. An entry read and its tags'
 * versions go out together (node-redis pipelines commands issued in the same tick): one
 * round trip. Tag counters are plain integers bumped with INCR; no clocks are compared.
 *
 * Bounded memory: values above `maxValueBytes` are not stored, entries carry their TTL, and tag
 * counters carry one at least as long as the longest entry written with them (PEXPIRE GT), so
 * they expire with their entries. Configure `maxmemory` on the server for a hard bound.
 */
export function redisStore(options: RedisStoreOptions): Store {
  const prefix = options.prefix ?? 'strata';
  const maxValueBytes = options.maxValueBytes ?? 8 * 1024 * 1024;
  const graceMs = (options.tagGraceSeconds ?? TAG_GRACE_SECONDS) * 1000;
  const entryKey = (key: string) => `${prefix}:e:${key}`;
  // SCAN patterns need the prefix escaped: a prefix like `app[1]` must not match `app1`'s keys.
  const scanBase = `${prefix}:e:`.replace(/[\\*?[\]^-]/g, '\\$&');
  const tagKey = (tag: string) => `${prefix}:t:${tag}`;
  const owned = !options.client;
  let connecting: Promise<RedisClient> | undefined;

  const client = (): Promise<RedisClient> => {
    connecting ??= (async () => {
      if (options.client) return options.client;
      const { createClient } = await import('redis');
      const created = createClient({
        url: options.url,
        // Fail fast while disconnected: the resilient wrapper falls back to the origin.
        disableOfflineQueue: true,
        socket: { connectTimeout: 2_000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
      });
      // Errors surface through the failing commands; the event must still have a listener.
      created.on('error', () => {});
      await created.connect();
      return created as unknown as RedisClient;
    })();
    connecting.catch(() => {
      connecting = undefined; // retry the connection on the next call
    });
    return connecting;
  };

  // Binary-safe reads: bodies come back as Buffers, not strings.
  const getBuffer = async (c: RedisClient, key: string): Promise<Uint8Array | undefined> => {
    const value = await (c as unknown as { withTypeMapping: (m: object) => RedisClient })
      .withTypeMapping({ 36: Buffer }) // RESP_TYPES.BLOB_STRING
      .get(key);
    return value == null ? undefined : new Uint8Array(value as unknown as Buffer);
  };

  const versionsOf = (c: RedisClient, tags: readonly string[]) =>
    Promise.all(tags.map(async (tag) => Number((await c.get(tagKey(tag))) ?? 0)));

  // Connect at once, so the first request does not pay for the connection (failures retry lazily).
  client().catch(() => {});

  return {
    level: 'REDIS',
    shared: true,
    async read(key, tags): Promise<StoreRead> {
      const c = await client();
      const [value, versions] = await Promise.all([getBuffer(c, entryKey(key)), versionsOf(c, tags)]);
      return { value, versions };
    },
    async write(key, value, ttlSeconds, tags) {
      if (value.byteLength > maxValueBytes) return;
      const c = await client();
      const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
      const tagMs = ttlMs + graceMs;
      await Promise.all([
        ...tags.flatMap((tag) => [
          c.incrBy(tagKey(tag), 0), // create at 0 if missing, never lower it
          c.pExpire(tagKey(tag), tagMs, 'NX'),
          c.pExpire(tagKey(tag), tagMs, 'GT'),
        ]),
        c.set(entryKey(key), Buffer.from(value.buffer, value.byteOffset, value.byteLength), { PX: ttlMs }),
      ]);
    },
    async versions(tags) {
      return versionsOf(await client(), tags);
    },
    async bump(tags) {
      const c = await client();
      return Promise.all(
        tags.map(async (tag) => {
          const [version] = await Promise.all([c.incr(tagKey(tag)), c.pExpire(tagKey(tag), graceMs, 'NX')]);
          return version;
        }),
      );
    },
    async delete(keys) {
      if (keys.length === 0) return 0;
      const c = await client();
      const counts = await Promise.all(keys.map((key) => c.unlink(entryKey(key))));
      return counts.reduce((a, b) => a + b, 0);
    },
    async keys(pattern, limit) {
      const c = await client();
      const out: string[] = [];
      const start = entryKey('').length;
      for await (const batch of c.scanIterator({ MATCH: scanBase + globToRedisMatch(pattern), COUNT: 500 })) {
        for (const key of batch as unknown as string[]) {
          if (out.length >= limit) return out;
          out.push(key.slice(start));
        }
      }
      return out;
    },
    async clear() {
      const c = await client();
      for await (const batch of c.scanIterator({ MATCH: `${scanBase}*`, COUNT: 1000 })) {
        const keys = batch as unknown as string[];
        if (keys.length > 0) await Promise.all(keys.map((key) => c.unlink(key)));
      }
    },
    async size() {
      const c = await client();
      let entries = 0;
      for await (const batch of c.scanIterator({ MATCH: `${scanBase}*`, COUNT: 1000 })) {
        entries += (batch as unknown as string[]).length;
      }
      const memory = /used_memory:(\d+)/.exec(await c.info('memory'));
      return { entries, bytes: Number(memory?.[1] ?? 0) };
    },
    async close() {
      const pending = connecting;
      connecting = undefined;
      if (!owned || !pending) return;
      const c = await pending.catch(() => undefined);
      if (c?.isOpen) await c.close();
    },
  };
}
