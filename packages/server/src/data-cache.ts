import { assertTag, StrataError } from '@strata/policy';
import { RecentKeys } from './cache/recent-keys.js';
import { freshness, TaggedCache } from './cache/tagged-cache.js';
import type { Stats } from './stats.js';
import type { ResilientStore } from './store/resilient.js';

/** Turns values into bytes and back. The default is JSON. */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export interface CachedOptions<T> {
  /** Seconds fresh. Default: the instance's `defaultTtl`. */
  ttl?: number;
  /** Invalidation tags: `strata.purge({ tags })` makes the value a miss at once. */
  tags?: readonly string[];
  /** Seconds a stale value is returned while one refresh runs in the background. */
  staleWhileRevalidate?: number;
  codec?: Codec<T>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function jsonCodec<T>(): Codec<T> {
  return {
    encode: (value) => encoder.encode(JSON.stringify(value)),
    decode: (bytes) => JSON.parse(decoder.decode(bytes)) as T,
  };
}

export interface DataCacheOptions {
  store: ResilientStore;
  stats: Stats;
  now: () => number;
  enabled: boolean;
  defaultTtl: number;
  track: (work: Promise<unknown>) => void;
  /** True when purges waiting for the store name an entry under `tags`: call the function instead. */
  bypass: (tags: readonly string[], storedAt?: number) => boolean;
  /** How long a miss waits for `fn` before its callers get an `E_ORIGIN_TIMEOUT` error. Default: no limit. */
  originTimeoutMs?: number;
}

/** Hit and miss counts per data key, for `/query-stats`; bounded to the most recent keys. */
export interface KeyStats {
  hits: number;
  misses: number;
}

const MAX_TRACKED_KEYS = 1_000;
const newKeyStats = (): KeyStats => ({ hits: 0, misses: 0 });

/**
 * The data cache (L4): any async function's result under a key, with tags, single flight and
 * stale-while-revalidate. It fails open: when the store is unreachable `fn` is simply called.
 */
export class DataCache {
  readonly #o: DataCacheOptions;
  readonly #core: TaggedCache<unknown>;
  readonly keyStats = new RecentKeys<KeyStats>(MAX_TRACKED_KEYS);

  constructor(options: DataCacheOptions) {
    this.#o = options;
    this.#core = new TaggedCache<unknown>(options);
  }

  async cached<T>(key: string, fn: () => Promise<T>, options: CachedOptions<T> = {}): Promise<T> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
      throw new StrataError('E_KEY_INVALID', 'a data cache key must be a string of 1 to 1024 characters');
    }
    const tags = [...new Set(options.tags ?? [])];
    for (const tag of tags) assertTag(tag);
    if (!this.#o.enabled) return fn();
    const codec = options.codec ?? jsonCodec<T>();
    const storeKey = `data:${key}`;
    const { stats } = this.#o;

    const read = await this.#core.read(storeKey, tags);
    if (read.kind !== 'read') {
      if (read.kind === 'unavailable') stats.storeErrors++;
      stats.record('data', 'bypass');
      stats.originCall('data');
      return fn();
    }
    const { entry, versions } = read;
    const load = () => this.#load(storeKey, tags, versions, fn, codec, options);
    if (entry) {
      const state = freshness(entry, this.#core.age(entry));
      if (state === 'fresh' || state === 'stale-while-revalidate') {
        const value = codec.decode(entry.body);
        this.keyStats.touch(key, newKeyStats).hits++;
        if (state === 'fresh') {
          stats.record('data', 'hit');
        } else {
          stats.record('data', 'stale');
          this.#core.refresh(storeKey, versions, load);
        }
        return value;
      }
    }
    this.keyStats.touch(key, newKeyStats).misses++;
    const flight = this.#core.load(storeKey, versions, load);
    // A call that joined another's load waited for it: collapsed, not a miss of its own.
    stats.record('data', flight.leader ? 'miss' : 'collapsed');
    return flight.promise as Promise<T>;
  }

  async #load<T>(
    storeKey: string,
    tags: string[],
    versions: readonly number[],
    fn: () => Promise<T>,
    codec: Codec<T>,
    options: CachedOptions<T>,
  ): Promise<T> {
    this.#o.stats.originCall('data');
    const value = await fn();
    await this.#core.write(storeKey, tags, versions, {
      status: 200,
      fields: [],
      etag: null,
      body: codec.encode(value),
      age: 0,
      ttl: options.ttl ?? this.#o.defaultTtl,
      swr: options.staleWhileRevalidate ?? 0,
      sie: 0,
    });
    return value;
  }
}
