import { LRUCache } from 'lru-cache';
import { positiveOption } from '../options.js';
import { matchKeys } from './glob.js';
import { TagCounters } from './tag-counters.js';
import { type Store, type StoreRead, TAG_GRACE_SECONDS } from './types.js';

export interface MemoryStoreOptions {
  /** Most entries kept (LRU beyond). Default 10,000. */
  maxEntries?: number;
  /** Most bytes of values kept (LRU beyond). Default 64 MiB. */
  maxBytes?: number;
  /** How long a tag counter outlives its entries (covers origin fetches in flight). Default 600 s. */
  tagGraceSeconds?: number;
  /**
   * Matching work a pattern scan (`keys`, pattern purges) does per event-loop turn, in 32-bit
   * word steps (a key costs its length × ⌈pattern length / 32⌉). Default 100,000 (about 1 ms).
   */
  scanStepsPerTurn?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** The memory store, with a view of its tag bookkeeping (for tests and stats). */
export interface MemoryStore extends Store {
  /** Tag counters held, the characters of their names, and the version tags without one read as. */
  tagBookkeeping(): { counters: number; chars: number; floor: number };
}

/**
 * The embedded default: an in-process LRU bounded in entries and bytes. Its tag counters are
 * bounded by the same limits: at most `2 × maxEntries + 1024` counters and `maxBytes / 8`
 * characters of tag names (see `TagCounters` for why an evicted counter cannot let a purged
 * entry match again).
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const now = options.now ?? Date.now;
  const grace = options.tagGraceSeconds ?? TAG_GRACE_SECONDS;
  const maxEntries = options.maxEntries ?? 10_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const entries = new LRUCache<string, Uint8Array>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (value) => Math.max(1, value.byteLength),
    ttlAutopurge: false,
    perf: { now },
  });
  const tags = new TagCounters({
    maxTags: 2 * maxEntries + 1024,
    maxTagChars: Math.max(64 * 1024, Math.floor(maxBytes / 8)),
    now,
  });
  const bump = (bumped: readonly string[], softAt?: number) => {
    const until = now() + grace * 1000;
    const versions = bumped.map((tag) => tags.keep(tag, until, true, softAt));
    tags.sweep();
    return versions;
  };
  const scanStepsPerTurn = positiveOption('scanStepsPerTurn', options.scanStepsPerTurn, false) ?? 100_000;
  const peek = (key: string, wanted: readonly string[]): StoreRead => ({
    value: entries.get(key),
    versions: tags.versions(wanted),
  });

  return {
    level: 'MEMORY',
    shared: false,
    inProcess: true,
    peek,
    async read(key, wanted): Promise<StoreRead> {
      return peek(key, wanted);
    },
    async write(key, value, ttlSeconds, entryTags) {
      const until = now() + (ttlSeconds + grace) * 1000;
      for (const tag of entryTags) tags.keep(tag, until, false);
      entries.set(key, value, { ttl: ttlSeconds * 1000 });
      tags.sweep();
    },
    async versions(wanted) {
      return tags.versions(wanted);
    },
    async bump(bumped) {
      return bump(bumped);
    },
    async softBump(bumped, at) {
      return bump(bumped, at);
    },
    async softMarks(wanted, from, to) {
      return wanted.map((tag, i) => tags.softMark(tag, from[i] ?? 0, to[i] ?? 0));
    },
    async delete(keys) {
      let deleted = 0;
      for (const key of keys) if (entries.delete(key)) deleted++;
      return deleted;
    },
    async keys(pattern, limit) {
      // A snapshot: the scan yields to the event loop, and the LRU may change meanwhile.
      return matchKeys([[...entries.keys()]], pattern, limit, scanStepsPerTurn);
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
    tagBookkeeping() {
      return { counters: tags.size, chars: tags.chars, floor: tags.floor };
    },
    async close() {
      entries.clear();
      tags.clear();
    },
  };
}
