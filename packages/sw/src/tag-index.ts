import { type DBSchema, type IDBPDatabase, openDB } from 'idb';

/**
 * The IndexedDB side of the cache: one record per stored variant, indexed by tag, URL, path,
 * cache (partition) and expiry. Written off the hit path; read by purges, expiration, logout and
 * reconciliation. Cache Storage and IndexedDB share no transactions
 * (docs/http-rules.md#cache-api), so the two can drift; the writer and reconciliation on activate
 * keep them in step.
 */
export interface EntryRecord {
  /** `cache key`: one stored entry. */
  id: string;
  cache: string;
  /** The Cache Storage key URL (see `cacheKey`: it names the Vary variant). */
  key: string;
  /** Absolute URL with its query. */
  url: string;
  /** Origin and path, without the query: a key purge of a path reaches every query variant. */
  path: string;
  tags: string[];
  /** The manifest route pattern, for per-route stats. */
  route: string;
  storedAt: number;
  /** When no window (TTL, stale-while-revalidate, stale-if-error) can serve it any more. */
  expiresAt: number;
}

/** Indexes of the entries store, by the record field they index. */
export type IndexName = 'tags' | 'cache' | 'url' | 'path';

interface Schema extends DBSchema {
  entries: {
    key: string;
    value: EntryRecord;
    indexes: Record<IndexName, string> & { expiresAt: number; age: [string, number] };
  };
  meta: { key: string; value: unknown };
}

export class TagIndex {
  readonly name: string;
  #db: Promise<IDBPDatabase<Schema>> | undefined;

  constructor(name: string) {
    this.name = name;
  }

  #open(): Promise<IDBPDatabase<Schema>> {
    this.#db ??= openDB<Schema>(this.name, 1, {
      upgrade(db) {
        const entries = db.createObjectStore('entries', { keyPath: 'id' });
        entries.createIndex('tags', 'tags', { multiEntry: true });
        for (const name of ['cache', 'url', 'path', 'expiresAt'] as const) entries.createIndex(name, name);
        entries.createIndex('age', ['cache', 'storedAt']);
        db.createObjectStore('meta');
      },
      // A newer worker upgrading the schema must not wait on this one.
      blocking: () => this.close(),
      terminated: () => this.close(),
    });
    // A failed open is retried by the next call instead of being kept forever.
    this.#db.catch(() => this.close());
    return this.#db;
  }

  async put(record: EntryRecord): Promise<void> {
    await (await this.#open()).put('entries', record);
  }

  async delete(ids: Iterable<string>): Promise<void> {
    const tx = (await this.#open()).transaction('entries', 'readwrite');
    for (const id of new Set(ids)) void tx.store.delete(id);
    await tx.done;
  }

  /** Records whose `index` field holds one of `keys` (for tags: carries one of the tags). */
  async find(index: IndexName, keys: readonly string[]): Promise<EntryRecord[]> {
    const store = (await this.#open()).transaction('entries').store.index(index);
    const found = new Map<string, EntryRecord>();
    for (const records of await Promise.all(keys.map((key) => store.getAll(key)))) {
      for (const record of records) found.set(record.id, record);
    }
    return [...found.values()];
  }

  async all(): Promise<EntryRecord[]> {
    return (await this.#open()).getAll('entries');
  }

  /** Records whose every window has passed at `now`, at most `limit`. */
  async expired(now: number, limit: number): Promise<EntryRecord[]> {
    return (await this.#open()).getAllFromIndex('entries', 'expiresAt', IDBKeyRange.upperBound(now), limit);
  }

  /** The oldest records of `cache` beyond the newest `keep` (first stored, first evicted). */
  async beyond(cache: string, keep: (count: number) => number): Promise<EntryRecord[]> {
    const db = await this.#open();
    const range = IDBKeyRange.bound([cache, 0], [cache, Infinity]);
    const count = await db.countFromIndex('entries', 'age', range);
    const over = count - keep(count);
    return over > 0 ? db.getAllFromIndex('entries', 'age', range, over) : [];
  }

  async getMeta(key: string): Promise<unknown> {
    return (await this.#open()).get('meta', key);
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await (await this.#open()).put('meta', value, key);
  }

  close(): void {
    const db = this.#db;
    this.#db = undefined;
    db?.then(
      (d) => d.close(),
      () => undefined,
    );
  }
}
