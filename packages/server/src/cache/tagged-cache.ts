import type { Stats } from '../stats.js';
import type { ResilientStore } from '../store/resilient.js';
import { type Entry, EntryReader, encodeEntry, storeTtl } from './entry.js';
import { type SharedFlightSettings, sharedFlight } from './shared-flight.js';
import { flightKey, SingleFlight } from './single-flight.js';

export interface TaggedCacheOptions {
  store: ResilientStore;
  stats: Stats;
  now: () => number;
  /** Background work (refreshes) is tracked so `close()` can wait for it. */
  track: (work: Promise<unknown>) => void;
  /**
   * True when purges waiting for the store name an entry under `tags` (stored at `storedAt`, once
   * read): it cannot be trusted, and the read bypasses the store.
   */
  bypass: (tags: readonly string[], storedAt?: number) => boolean;
  /** How long a load may run before its callers get an `E_ORIGIN_TIMEOUT` error. Default: no limit. */
  originTimeoutMs?: number;
  /** Cross-instance single flight through store leases (shared stores only). Default: off. */
  sharedFlight?: SharedFlightSettings | undefined;
}

/**
 * What a read found. `bypass`: the store is not to be trusted for it (purges naming it could not reach it);
 * `unavailable`: the read failed. Otherwise the entry, if one is current, and the tag versions
 * read with it, which any load or write for this read must carry. `soft`: a soft purge made the
 * entry stale (`TaggedCache.softened`): it is never fresh, and serves only its stale-while-revalidate window.
 * `level`: the store, or tier of it, that answered (`X-Cache-Level`).
 */
export type TaggedRead =
  | { kind: 'bypass' }
  | { kind: 'unavailable' }
  | { kind: 'read'; entry: Entry | undefined; versions: readonly number[]; level: string; soft?: true };

/**
 * Where an entry stands at `age` seconds: fresh; servable while one refresh runs
 * (stale-while-revalidate, RFC 5861 §3); servable only if the origin fails (stale-if-error,
 * RFC 5861 §4); or a miss.
 */
export type Freshness = 'fresh' | 'stale-while-revalidate' | 'stale-if-error' | 'miss';

export function freshness(entry: Entry | undefined, age: number): Freshness {
  if (!entry) return 'miss';
  if (age < entry.ttl) return 'fresh';
  if (age < entry.ttl + entry.swr) return 'stale-while-revalidate';
  if (age < entry.ttl + entry.sie) return 'stale-if-error';
  return 'miss';
}

/** An entry's fields as a load produces them; the core adds when it was stored and its tag versions. */
export type NewEntry = Omit<Entry, 'storedAt' | 'tags'>;

/**
 * The tagged-entry core under the response cache and the data cache: read (with bypass and
 * decode), age and freshness, single-flight loads bounded by the origin timeout, write, and
 * background refresh. What an entry means (an HTTP response, a value) is the caller's business.
 */
export class TaggedCache<L> {
  readonly #o: TaggedCacheOptions;
  readonly #flights: SingleFlight<L>;
  readonly #reader: EntryReader;

  constructor(options: TaggedCacheOptions) {
    this.#o = options;
    this.#flights = new SingleFlight<L>(options.originTimeoutMs);
    this.#reader = new EntryReader(options.stats);
  }

  /** Reads `key` and the versions of `tags`; the entry only when it is current under them. */
  async read(key: string, tags: readonly string[]): Promise<TaggedRead> {
    if (this.#o.bypass(tags)) return { kind: 'bypass' };
    let read: Awaited<ReturnType<ResilientStore['read']>>;
    try {
      read = await this.#o.store.read(key, tags);
    } catch {
      return { kind: 'unavailable' };
    }
    const entry = this.#reader.read(read.value, tags, read.versions);
    const soft = entry ? undefined : await this.#softened(read.value, tags, read.versions);
    // Asked again: a purge may have started waiting during the read, and the entry may be newer than it.
    if (this.#o.bypass(tags, (entry ?? soft)?.storedAt)) return { kind: 'bypass' };
    const level = read.level ?? this.#o.store.level;
    if (soft) return { kind: 'read', entry: soft, versions: read.versions, level, soft: true };
    return { kind: 'read', entry, versions: read.versions, level };
  }

  /**
   * `read` without a promise, where the store can answer from this process's memory
   * (`Store.peek`); undefined where only `read` can, with nothing read or counted. An entry only
   * soft purges made old reads as none here: it is never fresh, and `read` serves it stale.
   */
  peek(key: string, tags: readonly string[]): TaggedRead | undefined {
    if (this.#o.bypass(tags)) return { kind: 'bypass' };
    const read = this.#o.store.peek?.(key, tags);
    if (!read) return undefined;
    const entry = this.#reader.read(read.value, tags, read.versions);
    if (this.#o.bypass(tags, entry?.storedAt)) return { kind: 'bypass' };
    return { kind: 'read', entry, versions: read.versions, level: read.level ?? this.#o.store.level };
  }

  /**
   * An entry only soft purges made old: every bump of every tag it is behind on since it was
   * stored was soft. It is stale from the earliest of those purges (or from now, if
   * that purge's clock runs ahead of this one's), keeps its stale-while-revalidate window from
   * there, and has no stale-if-error window: once that window has passed it is a miss. An entry
   * without stale-while-revalidate is therefore a miss at once, as after a hard purge.
   */
  async #softened(value: Uint8Array | undefined, tags: readonly string[], versions: readonly number[]) {
    const found = this.#o.store.softMarks && this.#reader.superseded(value, tags, versions);
    if (!found || found.entry.swr <= 0) return undefined;
    let marks: number[] | undefined;
    try {
      marks = await this.#o.store.softMarks?.(
        found.behind.map((i) => tags[i] as string),
        found.behind.map((i) => found.entry.tags[tags[i] as string] ?? 0),
        found.behind.map((i) => versions[i] ?? 0),
      );
    } catch {
      return undefined;
    }
    if (marks?.length !== found.behind.length || marks.some((mark) => !(mark > 0))) return undefined;
    const { entry } = found;
    const agedAtPurge = entry.age + Math.max(0, (Math.min(...marks) - entry.storedAt) / 1000);
    const age = this.age(entry);
    // Never fresh again, even by a clock behind the purging instance's.
    const ttl = Math.min(entry.ttl, agedAtPurge, age - 0.001);
    return ttl + entry.swr > age ? { ...entry, ttl, sie: 0 } : undefined;
  }

  /** Seconds since the origin produced the entry: its upstream Age plus the time it spent here. */
  age(entry: Entry): number {
    return entry.age + Math.max(0, (this.#o.now() - entry.storedAt) / 1000);
  }

  /**
   * Runs `load` once for every concurrent caller that read the same key at the same tag versions.
   * With `shared` (and the `sharedFlight` option, on a shared store), once for every instance: the
   * others wait for the entry under `shared.tags` and take it through `shared.adopt`.
   */
  load(
    key: string,
    versions: readonly number[],
    load: () => Promise<L>,
    shared?: { tags: readonly string[]; adopt: (entry: Entry) => L },
  ): { promise: Promise<L>; leader: boolean } {
    const name = flightKey(key, versions);
    const settings = this.#o.sharedFlight;
    if (!shared || !settings || !this.#o.store.shared) return this.#flights.run(name, load);
    const find = async () => {
      const read = await this.read(key, shared.tags);
      const entry = read.kind === 'read' ? read.entry : undefined;
      return entry && freshness(entry, this.age(entry)) === 'fresh' ? shared.adopt(entry) : undefined;
    };
    return this.#flights.run(name, () => sharedFlight(this.#o.store, name, settings, load, find));
  }

  /**
   * Runs `load` in the background, unless a load for this key and these versions is running;
   * `settle` then disposes of what it returned. Failures are counted, never thrown.
   */
  refresh(key: string, versions: readonly number[], load: () => Promise<L>, settle?: (loaded: L) => unknown): void {
    if (this.#flights.has(flightKey(key, versions))) return;
    // The load starts before this returns: adapters that run the framework's own chain can only
    // do so while the request is still open. The versions were read with the entry, before the
    // load, so a purge landing meanwhile still wins.
    const work = (async () => {
      const loaded = await this.load(key, versions, load).promise;
      await settle?.(loaded);
    })().catch(() => {
      this.#o.stats.backgroundErrors++;
    });
    this.#o.track(work);
  }

  /**
   * Stores an entry under the tag versions read before its load began. A failed write is
   * counted, not thrown: the caller serves what it loaded all the same.
   */
  async write(
    key: string,
    tags: readonly string[],
    versions: readonly number[],
    fields: NewEntry,
  ): Promise<{ entry: Entry; stored: boolean }> {
    const entry: Entry = {
      ...fields,
      storedAt: this.#o.now(),
      tags: Object.fromEntries(tags.map((tag, i) => [tag, versions[i] ?? 0])),
    };
    try {
      await this.#o.store.write(key, encodeEntry(entry), storeTtl(entry), tags);
      return { entry, stored: true };
    } catch {
      this.#o.stats.storeErrors++;
      return { entry, stored: false };
    }
  }
}
