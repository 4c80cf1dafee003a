import { canonicalUrl, copy, META } from './entry.js';
import { cacheName, type Epochs, EVERYTHING_TAGGED, pathName, tagName } from './epochs.js';
import type { Stats } from './stats.js';
import type { EntryRecord, TagIndex } from './tag-index.js';
import type { Writer } from './writer.js';

export interface EvictorDeps {
  caches: CacheStorage;
  index: TagIndex;
  epochs: Epochs;
  writer: Pick<Writer, 'settled'>;
  stats: Pick<Stats, 'bump'>;
  /** Base for keys given as paths. */
  origin: string;
  /** The strategy's clock (ms), which soft purges stamp entries with. */
  now: () => number;
}

/**
 * Every way entries leave the cache: purges by tag and key, reset, logout, expiration, making
 * room. Purges keep one order: bump the epochs (so a response in flight is not written back),
 * wait for the writes in flight (so the index knows every stored entry), then evict.
 */
export class Evictor {
  readonly #deps: EvictorDeps;

  constructor(deps: EvictorDeps) {
    this.#deps = deps;
  }

  async #settle(names: string[]): Promise<void> {
    this.#deps.epochs.bump(names);
    await this.#deps.writer.settled();
  }

  /**
   * Evicts every entry carrying one of `tags` or stored under one of `keys`, in every partition;
   * `soft`: marks them stale instead (`soften`).
   */
  async purge(tags: readonly string[], keys: readonly string[], soft = false): Promise<number> {
    const { index, origin } = this.#deps;
    const urls: string[] = [];
    const paths: string[] = [];
    const names = tags.map(tagName);
    for (const key of keys) {
      const url = canonicalUrl(key, origin);
      const path = url.origin + url.pathname;
      names.push(pathName(path));
      // A key with a query names one URL; a path names every query variant of it.
      if (url.search) urls.push(url.href);
      else paths.push(path);
    }
    await this.#settle(names);
    const found = await Promise.all([index.find('tags', tags), index.find('url', urls), index.find('path', paths)]);
    return soft ? this.#soften(found.flat()) : this.evict(found.flat());
  }

  /**
   * A soft purge: each entry stays, its stored-at stamped `<stored-at>~<now>` (an earlier mark
   * kept), so the strategy serves it stale from now for at most its stale-while-revalidate window
   * while one revalidation runs, and as a miss after. Returns how many entries were marked.
   */
  async #soften(records: readonly EntryRecord[]): Promise<number> {
    const { caches, now } = this.#deps;
    const marked: EntryRecord[] = [];
    for (const record of records) {
      // CacheStorage.match looks in that cache only if it exists: it never creates one.
      const entry = await caches.match(record.key, { cacheName: record.cache, ignoreVary: true });
      if (!entry) continue;
      // `<stored-at>~<now>`; a second mark goes after the first, which `storedAtFor` keeps.
      const mark = (headers: Headers) => headers.set(META, `${headers.get(META)}`.replace(' ', `~${now()} `));
      await (await caches.open(record.cache)).put(record.key, copy(entry, mark));
      marked.push(record);
    }
    return this.#count(marked);
  }

  /** Evicts every tagged entry (the purge stream's `reset`). */
  async reset(): Promise<number> {
    await this.#settle([EVERYTHING_TAGGED]);
    return this.evict((await this.#deps.index.all()).filter((record) => record.tags.length > 0));
  }

  /** Deletes a whole cache (a user partition, on logout) and its records. */
  async dropCache(name: string): Promise<number> {
    const { caches, index } = this.#deps;
    await this.#settle([cacheName(name)]);
    const records = await index.find('cache', [name]);
    await caches.delete(name);
    await index.delete(records.map((r) => r.id));
    return this.#count(records);
  }

  /**
   * Evicts the entries of `records`. Deletes use `ignoreVary`: a delete by URL alone misses an entry
   * stored under other request headers (docs/http-rules.md#cache-api, Workbox #2818). Every Vary variant has
   * its own record (and key), so a purge reaches all of them. Returns how many entries went.
   */
  async evict(records: readonly EntryRecord[], count = true): Promise<number> {
    const { caches } = this.#deps;
    const gone: EntryRecord[] = [];
    for (const record of records) {
      const cache = (await caches.has(record.cache)) && (await caches.open(record.cache));
      if (cache && (await cache.delete(record.key, { ignoreVary: true }))) gone.push(record);
    }
    await this.#deps.index.delete(records.map((r) => r.id));
    return count ? this.#count(gone) : 0;
  }

  /** Makes room in a full cache: evicts its oldest quarter, at least one entry. */
  async makeRoom(name: string): Promise<void> {
    const oldest = await this.#deps.index.beyond(name, (count) => Math.floor((count * 3) / 4));
    if (oldest.length > 0) return void (await this.evict(oldest, false));
    // The index knows nothing of this cache: fall back to Cache Storage's insertion order.
    const cache = await this.#deps.caches.open(name);
    const keys = await cache.keys();
    for (const request of keys.slice(0, Math.ceil(keys.length / 4))) await cache.delete(request);
  }

  #count(records: readonly EntryRecord[]): number {
    const unique = new Map(records.map((r) => [r.id, r]));
    for (const record of unique.values()) this.#deps.stats.bump(record.route, 'purged');
    return unique.size;
  }
}
