import { createHash, randomUUID } from 'node:crypto';
import type { RedisClientType, RedisClusterType } from 'redis';
import { positiveOption } from '../options.js';
import { isCluster, type RedisConnectionOptions, redisSource } from '../redis/connection.js';
import { globPrefix, globToRedisMatch, matchKeys } from './glob.js';
import { nextRun, type SoftRun, softSince } from './tag-counters.js';
import { type Store, type StoreRead, TAG_GRACE_SECONDS } from './types.js';

type RedisClient = RedisClientType;

/** Deletes a lease only while it still holds the caller's token. */
const UNLEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * On one Redis server, a read, a write and a bump are each one script call instead of a command
 * per key: node-redis pipelines the separate commands into one round trip, but each still costs
 * the client its own encoding, reply and promise, and a write with three tags was ten of them.
 * On a cluster, keys of different tags live in different slots, which one script cannot span, and
 * the per-key commands stay.
 *
 * READ: the entry (or nil), then each tag counter as stored (nil when missing).
 */
const READ = `local out = {redis.call('GET', KEYS[1]) or false}
for i = 2, #KEYS do out[i] = redis.call('GET', KEYS[i]) or false end
return out`;
/** WRITE: the entry with its TTL, and each tag counter created at 0 if missing, living at least `tagMs`. */
const WRITE = `redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], 0)
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'NX')
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'GT')
end
return 1`;
/** BUMP: each tag counter incremented (given the grace TTL when it had none); the new versions. */
const BUMP = `local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('INCR', KEYS[i])
  redis.call('PEXPIRE', KEYS[i], ARGV[1], 'NX')
end
return out`;

interface Script {
  source: string;
  sha: string;
}
const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const SCRIPTS = { read: script(READ), write: script(WRITE), bump: script(BUMP) };

type ScriptArgs = { keys: string[]; arguments: (string | Buffer)[] };
type Scripting = {
  evalSha(sha: string, args: ScriptArgs): Promise<unknown>;
  eval(source: string, args: ScriptArgs): Promise<unknown>;
};

/** Runs a script by its SHA, loading it (EVAL) when the server does not know it yet. */
async function runScript(c: Scripting, { source, sha }: Script, args: ScriptArgs): Promise<unknown> {
  try {
    return await c.evalSha(sha, args);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    return c.eval(source, args);
  }
}

/** Whether the client is a cluster's (a plain boolean: `isCluster` narrows the type away). */
const onCluster = (c: unknown): boolean => isCluster(c);

/** A counter as GET returns it (a string, a Buffer, or nothing) as a version. */
const versionOf = (value: unknown): number => Number(value == null ? 0 : String(value));

/** A soft-purge record as `softBump` writes it; undefined for anything else. */
function readRun(value: string | null | undefined): SoftRun | undefined {
  const fields = String(value ?? '')
    .split(':')
    .map(Number);
  if (fields.length !== 4 || !fields.every(Number.isSafeInteger)) return undefined;
  const [from, fromAt, version, at] = fields as [number, number, number, number];
  return { from, fromAt, version, at };
}

export type RedisStoreOptions = RedisConnectionOptions & {
  /**
   * Namespace of every key this store writes. Default `strata`. On Redis Cluster, leave hash tags
   * (`{…}`) out of it: they would put every entry and tag counter in one slot, on one master.
   */
  prefix?: string;
  /** Largest value stored, in bytes; larger writes are skipped. Default 8 MiB. */
  maxValueBytes?: number;
  /** How long a tag counter outlives its entries (covers origin fetches in flight). Default 600 s. */
  tagGraceSeconds?: number;
  /** Matching work a pattern scan (`keys`) does per event-loop turn; see `memoryStore`. Default 100,000. */
  scanStepsPerTurn?: number;
};

/**
 * Redis (node-redis) as the shared server cache. On one server, an entry read with its tags'
 * versions, a write with its tags' lifetimes, and a bump of several tags are one Lua script call
 * each (EVALSHA, loaded with EVAL when the server lacks it: the Redis user needs both); Redis runs
 * a script whole, so a read sees the entry and the versions of one moment. Tag counters are plain
 * integers bumped with INCR; no clocks are compared.
 *
 * Redis Cluster: every command touches one key, so none can cross slots; the cluster client
 * routes each to its key's master (a read's commands go to their masters in parallel), and entries
 * and tag counters spread over all of them. Only SCAN (`keys`, `clear`, `size`) and INFO (`size`)
 * are per node: they run on every master and the results are merged.
 *
 * Bounded memory: values above `maxValueBytes` are not stored, entries carry their TTL, and tag
 * counters carry one at least as long as the longest entry written with them (PEXPIRE GT), so
 * they expire with their entries. Configure `maxmemory` on the server for a hard bound.
 */
export function redisStore(options: RedisStoreOptions): Store {
  // Every call reaches this store through the resilient wrapper, which bounds it (operation
  // timeout, circuit): the connection it makes needs no timer of its own per command.
  const source = redisSource(options, 'redisStore', { commandTimeout: false });
  const prefix = options.prefix ?? 'strata';
  const maxValueBytes = options.maxValueBytes ?? 8 * 1024 * 1024;
  const graceMs = (options.tagGraceSeconds ?? TAG_GRACE_SECONDS) * 1000;
  const scanStepsPerTurn = positiveOption('scanStepsPerTurn', options.scanStepsPerTurn, false) ?? 100_000;
  const entryKey = (key: string) => `${prefix}:e:${key}`;
  // SCAN patterns need the prefix escaped: a prefix like `app[1]` must not match `app1`'s keys.
  const scanBase = `${prefix}:e:`.replace(/[\\*?[\]^-]/g, '\\$&');
  const tagKey = (tag: string) => `${prefix}:t:${tag}`;
  const leaseKey = (name: string) => `${prefix}:l:${name}`;
  /** `<from>:<fromAt>:<version>:<at>`: the run of soft purges that made that version of the tag (`SoftRun`). */
  const softKey = (tag: string) => `${prefix}:s:${tag}`;
  let connecting: Promise<RedisClient> | undefined;

  const client = (): Promise<RedisClient> => {
    connecting ??= (async () => {
      // A cluster has the same per-key commands as a client: it stands in for one (see `nodes`).
      const created = await source.create();
      if (!source.owned) return created as RedisClient;
      try {
        await created.connect();
      } catch (error) {
        // A cluster does not retry its first discovery: the next call does.
        if (isCluster(created)) created.destroy();
        throw error;
      }
      return created as unknown as RedisClient;
    })();
    connecting.catch(() => {
      connecting = undefined; // retry the connection on the next call
    });
    return connecting;
  };

  /** The client with bulk strings (RESP_TYPES.BLOB_STRING) as Buffers, made once per client: entries are bytes. */
  const binaries = new WeakMap<RedisClient, RedisClient & Scripting>();
  const binary = (c: RedisClient) => {
    let mapped = binaries.get(c);
    if (!mapped) {
      mapped = (c as unknown as { withTypeMapping: (m: object) => RedisClient & Scripting }).withTypeMapping({
        36: Buffer,
      });
      binaries.set(c, mapped);
    }
    return mapped;
  };
  /** A stored value as it came back (a Buffer, or nothing) as bytes. */
  const bytesOf = (value: unknown): Uint8Array | undefined =>
    value == null ? undefined : new Uint8Array(value as Buffer);
  const getBuffer = async (c: RedisClient, key: string) => bytesOf(await binary(c).get(key));

  /** Where SCAN and INFO run: every master of a cluster, or the one server. */
  const nodes = async (c: RedisClient): Promise<RedisClient[]> => {
    if (!isCluster(c)) return [c];
    const cluster = c as unknown as RedisClusterType;
    return (await Promise.all(cluster.masters.map((master) => cluster.nodeClient(master)))) as unknown as RedisClient[];
  };

  const versionsOf = (c: RedisClient, tags: readonly string[]) =>
    Promise.all(tags.map(async (tag) => versionOf(await c.get(tagKey(tag)))));

  // Connect at once, so the first request does not pay for the connection (failures retry lazily);
  // until this first attempt settles, `ready()` lets operations wait for it.
  let opening: Promise<void> | undefined = client().then(
    () => {
      opening = undefined;
    },
    () => {
      opening = undefined;
    },
  );

  return {
    level: 'REDIS',
    shared: true,
    ready: () => opening,
    async read(key, tags): Promise<StoreRead> {
      const c = await client();
      if (onCluster(c)) {
        const [value, versions] = await Promise.all([getBuffer(c, entryKey(key)), versionsOf(c, tags)]);
        return { value, versions };
      }
      const keys = [entryKey(key), ...tags.map(tagKey)];
      const [value, ...counters] = (await runScript(binary(c), SCRIPTS.read, { keys, arguments: [] })) as unknown[];
      return { value: bytesOf(value), versions: counters.map(versionOf) };
    },
    async write(key, value, ttlSeconds, tags) {
      if (value.byteLength > maxValueBytes) return;
      const c = await client();
      const ttlMs = Math.max(1, Math.round(ttlSeconds * 1000));
      const tagMs = ttlMs + graceMs;
      const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      if (!onCluster(c)) {
        const keys = [entryKey(key), ...tags.map(tagKey)];
        await runScript(c, SCRIPTS.write, { keys, arguments: [bytes, String(ttlMs), String(tagMs)] });
        return;
      }
      await Promise.all([
        ...tags.flatMap((tag) => [
          c.incrBy(tagKey(tag), 0), // create at 0 if missing, never lower it
          c.pExpire(tagKey(tag), tagMs, 'NX'),
          c.pExpire(tagKey(tag), tagMs, 'GT'),
        ]),
        c.set(entryKey(key), bytes, { PX: ttlMs }),
      ]);
    },
    async versions(tags) {
      return versionsOf(await client(), tags);
    },
    async bump(tags) {
      const c = await client();
      if (!onCluster(c)) {
        if (tags.length === 0) return [];
        const versions = await runScript(c, SCRIPTS.bump, { keys: tags.map(tagKey), arguments: [String(graceMs)] });
        return (versions as unknown[]).map(versionOf);
      }
      return Promise.all(
        tags.map(async (tag) => {
          const [version] = await Promise.all([c.incr(tagKey(tag)), c.pExpire(tagKey(tag), graceMs, 'NX')]);
          return version;
        }),
      );
    },
    async softBump(tags, at) {
      const c = await client();
      return Promise.all(
        tags.map(async (tag) => {
          const previous = readRun(await c.get(softKey(tag)));
          const [version, , left] = await Promise.all([
            c.incr(tagKey(tag)),
            c.pExpire(tagKey(tag), graceMs, 'NX'),
            c.pTTL(tagKey(tag)),
          ]);
          // Two keys, so a cluster may hold them in two slots: not atomic, and need not be. The
          // record names the version it made, and a run goes on only from the version just
          // before: a bump landing in between leaves the record naming an older version (read
          // as hard) or starts a new run. Either errs on the side of a miss.
          const run = nextRun(previous, version, Math.round(at));
          await c.set(softKey(tag), `${run.from}:${run.fromAt}:${run.version}:${run.at}`, {
            PX: Math.max(graceMs, Number(left)),
          });
          return version;
        }),
      );
    },
    async softMarks(tags, from, to) {
      const c = await client();
      return Promise.all(
        tags.map(async (tag, i) => softSince(readRun(await c.get(softKey(tag))), from[i] ?? 0, to[i] ?? 0)),
      );
    },
    async lease(name, ttlMs) {
      const token = randomUUID();
      const c = await client();
      const set = await c.set(leaseKey(name), token, { NX: true, PX: Math.max(1, Math.round(ttlMs)) });
      return set === 'OK' ? token : undefined;
    },
    async unlease(name, token) {
      const c = await client();
      await c.eval(UNLEASE, { keys: [leaseKey(name)], arguments: [token] });
    },
    async delete(keys) {
      if (keys.length === 0) return 0;
      const c = await client();
      const counts = await Promise.all(keys.map((key) => c.unlink(entryKey(key))));
      return counts.reduce((a, b) => a + b, 0);
    },
    async keys(pattern, limit) {
      const out: string[] = [];
      const start = entryKey('').length;
      // Redis's own MATCH backtracks: it only narrows the scan to the pattern's literal prefix,
      // and the full pattern is matched here, linearly and yielding (see `matchKeys`).
      const match = `${scanBase}${globToRedisMatch(globPrefix(pattern))}*`;
      // One master after another, until `limit` keys are found.
      for (const node of await nodes(await client())) {
        if (out.length >= limit) break;
        const batches = (async function* () {
          for await (const batch of node.scanIterator({ MATCH: match, COUNT: 500 })) {
            yield (batch as unknown as string[]).map((key) => key.slice(start));
          }
        })();
        out.push(...(await matchKeys(batches, pattern, limit - out.length, scanStepsPerTurn)));
      }
      return out;
    },
    async clear() {
      const all = await nodes(await client());
      await Promise.all(
        all.map(async (node) => {
          // Key by key: on a cluster, keys of one node still live in different slots.
          for await (const batch of node.scanIterator({ MATCH: `${scanBase}*`, COUNT: 1000 })) {
            const keys = batch as unknown as string[];
            if (keys.length > 0) await Promise.all(keys.map((key) => node.unlink(key)));
          }
        }),
      );
    },
    async size() {
      const all = await nodes(await client());
      const sizes = await Promise.all(
        all.map(async (node) => {
          let entries = 0;
          for await (const batch of node.scanIterator({ MATCH: `${scanBase}*`, COUNT: 1000 })) {
            entries += (batch as unknown as string[]).length;
          }
          const memory = /used_memory:(\d+)/.exec(await node.info('memory'));
          return { entries, bytes: Number(memory?.[1] ?? 0) };
        }),
      );
      return sizes.reduce((sum, node) => ({ entries: sum.entries + node.entries, bytes: sum.bytes + node.bytes }), {
        entries: 0,
        bytes: 0,
      });
    },
    async close() {
      const pending = connecting;
      connecting = undefined;
      if (!source.owned || !pending) return;
      const c = await pending.catch(() => undefined);
      if (c?.isOpen) await c.close();
    },
  };
}
