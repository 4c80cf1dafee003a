import { assertTag, StrataError } from '@strata/policy';
import { type Entry, EntryReader, encodeEntry, storeTtl } from './cache/entry.js';
import { flightKey, SingleFlight } from './cache/single-flight.js';
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
  /** True while purges could not reach the store: call the function instead. */
  bypass: () => boolean;
  /** How long a miss waits for `fn` before its callers get an `E_ORIGIN_TIMEOUT` error. Default: no limit. */
  originTimeoutMs?: number;
}

/** Hit and miss counts per data key, for `/query-stats`; bounded to the most recent keys. */
export interface KeyStats {
  hits: number;
  misses: number;
}

const MAX_TRACKED_KEYS = 1_000;

/**
 * The data cache (L4): any async function's result under a key, with tags, single flight and
 * stale-while-revalidate. It fails open: when the store is unreachable `fn` is simply called.
 */
export class DataCache {
  readonly #o: DataCacheOptions;
  readonly #flights: SingleFlight<unknown>;
  readonly keyStats = new Map<string, KeyStats>();

  readonly #reader: EntryReader;

  constructor(options: DataCacheOptions) {
    this.#o = options;
    this.#flights = new SingleFlight<unknown>(options.originTimeoutMs);
    this.#reader = new EntryReader(options.stats);
  }

  #count(key: string, field: keyof KeyStats): void {
    let entry = this.keyStats.get(key);
    if (entry) this.keyStats.delete(key);
    else entry = { hits: 0, misses: 0 };
    entry[field]++;
    this.keyStats.set(key, entry); // re-inserted last: the map's order is recency
    if (this.keyStats.size > MAX_TRACKED_KEYS) this.keyStats.delete(this.keyStats.keys().next().value as string);
  }

  async cached<T>(key: string, fn: () => Promise<T>, options: CachedOptions<T> = {}): Promise<T> {
    if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
      throw new StrataError('E_KEY_INVALID', 'a data cache key must be a string of 1 to 1024 characters');
    }
    const tags = [...new Set(options.tags ?? [])];
    for (const tag of tags) assertTag(tag);
    if (!this.#o.enabled) return fn();
    if (this.#o.bypass()) {
      this.#o.stats.record('data', 'bypass');
      return fn();
    }
    const codec = options.codec ?? jsonCodec<T>();
    const storeKey = `data:${key}`;
    const { store, stats } = this.#o;

    let read: Awaited<ReturnType<ResilientStore['read']>>;
    try {
      read = await store.read(storeKey, tags);
    } catch {
      stats.storeErrors++;
      stats.record('data', 'bypass');
      return fn();
    }
    const entry = this.#reader.read(read.value, tags, read.versions);
    if (entry) {
      const age = (this.#o.now() - entry.storedAt) / 1000;
      if (age < entry.ttl + entry.swr) {
        const value = codec.decode(entry.body);
        this.#count(key, 'hits');
        if (age < entry.ttl) {
          stats.record('data', 'hit');
        } else {
          stats.record('data', 'stale');
          this.#refresh(storeKey, tags, read.versions, fn, codec, options);
        }
        return value;
      }
    }
    this.#count(key, 'misses');
    stats.record('data', 'miss');
    const flight = this.#flights.run(flightKey(storeKey, read.versions), () =>
      this.#load(storeKey, tags, read.versions, fn, codec, options),
    );
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
    const value = await fn();
    const entry: Entry = {
      status: 200,
      headers: [],
      body: codec.encode(value),
      storedAt: this.#o.now(),
      age: 0,
      ttl: options.ttl ?? this.#o.defaultTtl,
      swr: options.staleWhileRevalidate ?? 0,
      sie: 0,
      tags: Object.fromEntries(tags.map((tag, i) => [tag, versions[i] ?? 0])),
    };
    try {
      await this.#o.store.write(storeKey, encodeEntry(entry), storeTtl(entry), tags);
    } catch {
      this.#o.stats.storeErrors++;
    }
    return value;
  }

  #refresh<T>(
    storeKey: string,
    tags: string[],
    versions: readonly number[],
    fn: () => Promise<T>,
    codec: Codec<T>,
    options: CachedOptions<T>,
  ) {
    const key = flightKey(storeKey, versions);
    if (this.#flights.has(key)) return;
    const work = (async () => {
      await this.#flights.run(key, () => this.#load(storeKey, tags, versions, fn, codec, options)).promise;
    })().catch(() => {
      this.#o.stats.backgroundErrors++;
    });
    this.#o.track(work);
  }
}
