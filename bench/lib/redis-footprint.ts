/**
 * What Strata's entries cost in Redis against the plainest cache: the same bodies, under the same
 * keys, with the same TTLs, stored with `SET key body PX ttl` in a redis-server of their own.
 * The difference is what Strata adds: the stored status, headers and metadata, and tag counters.
 */
import { createClient, RESP_TYPES } from 'redis';
import { decodeEntry } from '../../packages/server/src/cache/entry.js';
import { startRedisServer } from '../../packages/server/test/helpers/redis-server.js';

/** A connected client; errors surface on the commands, not as unhandled events. */
export async function connectRedis(url: string) {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

type Redis = Awaited<ReturnType<typeof connectRedis>>;

/** Keys and the bytes Redis spends on them (`MEMORY USAGE`, averaged over a sample). */
export interface KeyClass {
  keys: number;
  /** Mean `MEMORY USAGE` of up to `SAMPLE` keys of the class, in bytes. */
  meanBytes: number;
}

export interface Footprint {
  /** `used_memory` grown while the entries were written, in bytes. */
  strataBytes: number;
  /** `used_memory` grown by the plain SETs of the same bodies, in bytes. */
  plainBytes: number;
  /** Strata's entries, by kind, and its tag counters; the plain keys. */
  responses: KeyClass;
  queries: KeyClass;
  tags: KeyClass;
  plain: KeyClass;
  /** Total body bytes stored (the same in both). */
  bodyBytes: number;
}

const SAMPLE = 500;

export async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  const used = /^used_memory:(\d+)/m.exec(info)?.[1];
  if (used === undefined) throw new Error('INFO memory has no used_memory');
  return Number(used);
}

export async function keysMatching(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
    keys.push(...(batch as unknown as string[]));
  }
  return keys;
}

async function classOf(client: Redis, keys: readonly string[]): Promise<KeyClass> {
  const step = Math.max(1, Math.floor(keys.length / SAMPLE));
  const sample = keys.filter((_, i) => i % step === 0).slice(0, SAMPLE);
  const sizes = await Promise.all(sample.map((key) => client.memoryUsage(key, { SAMPLES: 0 })));
  const total = sizes.reduce<number>((sum, size) => sum + Number(size ?? 0), 0);
  return { keys: keys.length, meanBytes: sample.length === 0 ? 0 : total / sample.length };
}

/**
 * Copies the bodies of `entryKeys` (Strata's entries in `strata`) to a fresh redis-server with
 * plain SETs and compares. `strataBytes` is what `used_memory` grew by while Strata wrote them.
 */
export async function compareWithPlainSet(
  strata: Redis,
  prefix: string,
  entryKeys: readonly string[],
  tagKeys: readonly string[],
  strataBytes: number,
): Promise<Footprint> {
  const plainServer = await startRedisServer();
  let plain: Redis | undefined;
  try {
    const target = await connectRedis(plainServer.url);
    plain = target;
    const binary = strata.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    const before = await usedMemory(target);
    let bodyBytes = 0;
    for (let i = 0; i < entryKeys.length; i += 500) {
      await Promise.all(
        entryKeys.slice(i, i + 500).map(async (key) => {
          const [value, ttl] = await Promise.all([binary.get(key), strata.pTTL(key)]);
          if (!value) throw new Error(`entry ${key} vanished before it was copied`);
          const entry = decodeEntry(new Uint8Array(value));
          if (!entry) throw new Error(`entry ${key} is in another format version`);
          const { body } = entry;
          bodyBytes += body.byteLength;
          const options = ttl > 0 ? { PX: ttl } : {};
          await target.set(key, Buffer.from(body.buffer, body.byteOffset, body.byteLength), options);
        }),
      );
    }
    const plainBytes = (await usedMemory(target)) - before;
    const entry = `${prefix}:e:`;
    return {
      strataBytes,
      plainBytes,
      responses: await classOf(
        strata,
        entryKeys.filter((k) => k.startsWith(`${entry}GET `)),
      ),
      queries: await classOf(
        strata,
        entryKeys.filter((k) => k.startsWith(`${entry}data:`)),
      ),
      tags: await classOf(strata, tagKeys),
      plain: await classOf(target, entryKeys),
      bodyBytes,
    };
  } finally {
    await plain?.close().catch(() => {});
    await plainServer.stop();
  }
}
