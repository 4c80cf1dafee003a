import { LRUCache } from 'lru-cache';
import { globMatcher } from './glob.js';
import { type Store, type StoreRead, TAG_GRACE_SECONDS } from './types.js';

export interface MemoryStoreOptions {
  /** Most entries kept (LRU beyond). Default 10,000. */
  maxEntries?: number;
  /** Most bytes of values kept (LRU beyond). Default 64 MiB. */
  maxBytes?: number;
  /** How long a tag counter outlives its entries (covers origin fetches in flight). Default 600 s. */
  tagGraceSeconds?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

interface TagCounter {
  version: number;
  /** When no entry written with this tag can still be alive (ms). */
  expiresAt: number;
}

/** The embedded default: an in-process LRU bounded in entries and bytes. */
export function memoryStore(options: MemoryStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const grace = options.tagGraceSeconds ?? TAG_GRACE_SECONDS;
  const entries = new LRUCache<string, Uint8Array>({
    max: options.maxEntries ?? 10_000,
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (value) => Math.max(1, value.byteLength),
    ttlAutopurge: false,
    perf: { now },
  });
  const tags = new Map<string, TagCounter>();
  let sweepAt = 1024;

  const version = (tag: string): number => {
    const counter = tags.get(tag);
    if (!counter) return 0;
    if (counter.expiresAt <= now()) {
      tags.delete(tag);
      return 0;
    }
    return counter.version;
  };

  // Expired counters are dropped whenever the map doubles since the last sweep: amortized O(1).
  const sweep = () => {
    if (tags.size < sweepAt) return;
    const t = now();
    for (const [tag, counter] of tags) if (counter.expiresAt <= t) tags.delete(tag);
    sweepAt = Math.max(1024, tags.size * 2);
  };

  const keep = (tag: string, until: number, bump: boolean): number => {
    const counter = tags.get(tag);
    const alive = counter && counter.expiresAt > now() ? counter : undefined;
    const next = { version: (alive?.version ?? 0) + (bump ? 1 : 0), expiresAt: Math.max(alive?.expiresAt ?? 0, until) };
    tags.set(tag, next);
    return next.version;
  };

  return {
    level: 'MEMORY',
    shared: false,
    async read(key, wanted): Promise<StoreRead> {
      return { value: entries.get(key), versions: wanted.map(version) };
    },
    async write(key, value, ttlSeconds, entryTags) {
      const until = now() + (ttlSeconds + grace) * 1000;
      for (const tag of entryTags) keep(tag, until, false);
      entries.set(key, value, { ttl: ttlSeconds * 1000 });
      sweep();
    },
    async versions(wanted) {
      return wanted.map(version);
    },
    async bump(bumped) {
      const until = now() + grace * 1000;
      const versions = bumped.map((tag) => keep(tag, until, true));
      sweep();
      return versions;
    },
    async delete(keys) {
      let deleted = 0;
      for (const key of keys) if (entries.delete(key)) deleted++;
      return deleted;
    },
    async keys(pattern, limit) {
      const matches = globMatcher(pattern);
      const out: string[] = [];
      for (const key of entries.keys()) {
        if (out.length >= limit) break;
        if (matches(key)) out.push(key);
      }
      return out;
    },
    async clear() {
      // Tag counters stay: resetting them could let an entry written in flight, under an old
      // version, match again once the counter climbs back.
      entries.clear();
    },
    async size() {
      entries.purgeStale();
      return { entries: entries.size, bytes: entries.calculatedSize };
    },
    async close() {
      entries.clear();
      tags.clear();
    },
  };
}
