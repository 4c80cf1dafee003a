import { LRUCache } from 'lru-cache';
import type { Bus, PurgeEvent, Subscription } from '../bus/types.js';
import { urlTag } from '../cache/key.js';
import { positiveOption } from '../options.js';
import { matchKeys } from './glob.js';
import type { ResilientStore } from './resilient.js';
import { TagMirror } from './tag-mirror.js';
import type { StoreRead } from './types.js';

/** What `X-Cache-Level` says of an answer from the in-process tier: an in-memory store answered. */
const L1_LEVEL = 'MEMORY';

/** The in-process tier in front of a shared store. */
export interface L1Options {
  /** Most entries kept (least recently used out first). Default 10,000. */
  maxEntries?: number;
  /** Most bytes of values kept; a larger value is not kept at all. Default 64 MiB. */
  maxBytes?: number;
  /** Longest an entry stays in the L1 before it is read from the shared store again. Default 60 s. */
  ttlSeconds?: number;
}

/** What `/stats` reports about the two tiers. */
export interface TierStats {
  /** Reads answered in process, and reads that went on to the shared store. */
  l1: { hits: number; misses: number; entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** Reads of the shared store that found a value, and that found none. */
  l2: { hits: number; misses: number };
  /** Tag versions the L1 holds now. */
  tags: number;
  /** Times the whole L1 was dropped: a reset or a gap in the log, a clear-all or pattern purge, the log unreachable. */
  flushes: number;
}

export interface TieredStore extends ResilientStore {
  tiers(): TierStats;
}

export interface TieredStoreOptions extends L1Options {
  /** The purge log every instance publishes to: the L1 follows it. */
  bus: Bus;
}

/** The L1's bounds from its options, with the defaults; throws `E_CONFIG_INVALID` on a bad one. */
export function l1Limits(options: L1Options): { maxEntries: number; maxBytes: number; ttlMs: number } {
  return {
    maxEntries: positiveOption('l1.maxEntries', options.maxEntries, true) ?? 10_000,
    maxBytes: positiveOption('l1.maxBytes', options.maxBytes, true) ?? 64 * 1024 * 1024,
    ttlMs: (positiveOption('l1.ttlSeconds', options.ttlSeconds, false) ?? 60) * 1000,
  };
}

/**
 * Two tiers: a bounded in-process L1 in front of a shared store (the L2, Redis), kept exact by
 * the ordered purge log. The L1 holds values and a mirror of tag versions (`TagMirror`); a read
 * is answered in process only when every tag it names has a known version and the log is being
 * followed. A purge event makes its tags (and its keys' URL tags) unknown, and drops the entries
 * it says were removed by key (`entries`); a reset, a clear-all or pattern purge, or losing the
 * log drops the whole L1. This instance's own purges go through `bump`, which forgets the tags
 * before and after the shared store's increment, so its L1 is invalid before `purge()` resolves.
 * The consistency bounds are in docs/architecture.md.
 */
export function tieredStore(l2: ResilientStore, options: TieredStoreOptions): TieredStore {
  const { maxEntries, maxBytes, ttlMs } = l1Limits(options);
  const { bus } = options;
  const values = new LRUCache<string, Uint8Array>({
    max: maxEntries,
    maxSize: maxBytes,
    maxEntrySize: maxBytes,
    sizeCalculation: (value) => Math.max(1, value.byteLength),
    ttl: ttlMs,
    ttlAutopurge: false,
  });
  // Each entry names a few tags; counters of evicted entries are only a spurious L2 read away.
  const mirror = new TagMirror(4 * maxEntries + 1024);
  const counts = { l1Hits: 0, l1Misses: 0, l2Hits: 0, l2Misses: 0, flushes: 0 };
  /** Whether the log was reachable at the last look: a read finding it lost drops the L1 once. */
  let following = false;

  const flush = () => {
    values.clear();
    mirror.flush();
    counts.flushes++;
  };
  /** The L1 answers only while the log is followed: otherwise a purge elsewhere could go unseen. */
  const serving = (): boolean => {
    const connected = bus.stats().connected;
    if (!connected && following) flush();
    following = connected;
    return connected;
  };
  const apply = (event: PurgeEvent) => {
    // A reset (the log's clear-all, an entry this version cannot read, or purges the bus could not
    // replay) and a pattern purge drop everything.
    if (event.all || event.pattern !== undefined) return flush();
    mirror.invalidate([...event.tags, ...event.keys.map(urlTag)]);
    if (event.entries) drop(event.entries);
  };
  // From the log's start, not "from now": a purge another instance makes before this one's reader
  // has found the log's end would otherwise be missed. Replayed purges only cost L2 reads.
  let subscription: Subscription | undefined = bus.subscribe('0-0', apply);

  /** Drops entries from the L1, and refuses what reads of them in flight got. */
  const drop = (keys: readonly string[]) => {
    mirror.remove(keys);
    for (const key of keys) values.delete(key);
  };
  /** Runs a version change in the L2 with the tags forgotten before and after it. */
  const forgetAround = async <T>(tags: readonly string[], change: () => Promise<T>): Promise<T> => {
    mirror.invalidate(tags);
    try {
      return await change();
    } finally {
      // A read that got the old versions between the two forgets them again.
      mirror.invalidate(tags);
    }
  };
  /** The L1's answer, when it holds the entry and the versions of all its tags. */
  const peek = (key: string, tags: readonly string[]): StoreRead | undefined => {
    if (!serving()) return undefined;
    const versions = mirror.versions(tags);
    const value = versions && values.get(key);
    if (!value) return undefined;
    counts.l1Hits++;
    return { value, versions: versions as number[], level: L1_LEVEL };
  };
  const tiered: TieredStore = {
    level: l2.level,
    shared: l2.shared,
    health: () => l2.health(),
    peek,
    async read(key, tags): Promise<StoreRead> {
      const held = peek(key, tags);
      if (held) return held;
      counts.l1Misses++;
      const since = mirror.seq;
      const read = await l2.read(key, tags);
      if (read.value) counts.l2Hits++;
      else counts.l2Misses++;
      if (serving() && mirror.learn(tags, read.versions, since)) {
        // A value read before its entry was removed by key stays out.
        if (read.value && !mirror.removedSince(key, since)) values.set(key, read.value);
        else values.delete(key);
      }
      return read;
    },
    async write(key, value, ttlSeconds, tags) {
      const since = mirror.seq;
      await l2.write(key, value, ttlSeconds, tags);
      // Served only while the mirror holds the versions the value must match: a value written
      // under versions a purge has since moved past is a miss here as it is in the L2.
      if (!mirror.removedSince(key, since)) {
        values.set(key, value, { ttl: Math.min(ttlMs, Math.max(1, ttlSeconds * 1000)) });
      }
    },
    versions: (tags) => l2.versions(tags),
    bump: (tags) => forgetAround(tags, () => l2.bump(tags)),
    async delete(keys) {
      drop(keys);
      try {
        return await l2.delete(keys);
      } finally {
        // A read that got the value before the L2 dropped it drops it again.
        drop(keys);
      }
    },
    async keys(pattern, limit) {
      // The L1 may hold keys the L2 has already dropped: a pattern purge deletes those too.
      const shared = await l2.keys(pattern, limit);
      const local = await matchKeys([[...values.keys()]], pattern, limit, 100_000);
      return [...new Set([...shared, ...local])].slice(0, limit);
    },
    async clear() {
      flush();
      try {
        await l2.clear();
      } finally {
        flush();
      }
    },
    size: () => l2.size(),
    tiers: () => ({
      l1: {
        hits: counts.l1Hits,
        misses: counts.l1Misses,
        entries: values.size,
        bytes: values.calculatedSize,
        maxEntries,
        maxBytes,
      },
      l2: { hits: counts.l2Hits, misses: counts.l2Misses },
      tags: mirror.size,
      flushes: counts.flushes,
    }),
    async close() {
      subscription?.close();
      subscription = undefined;
      values.clear();
      mirror.flush();
      await l2.close();
    },
  };
  const { softBump } = l2;
  // A soft purge moves the versions as a hard one does (the L2 then serves the entry stale).
  if (softBump) tiered.softBump = (tags, at) => forgetAround(tags, () => softBump.call(l2, tags, at));
  // Whatever else the shared store offers, and this tier has nothing to add to, passes through.
  for (const [name, value] of Object.entries(l2)) {
    if (!(name in tiered) && typeof value === 'function') (tiered as unknown as Record<string, unknown>)[name] = value;
  }
  return tiered;
}
