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

/** A request's result, as a promise. */
function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

type StoreName = 'entries' | 'meta';

/**
 * IndexedDB through its own requests, each settled as a promise: the worker uses a handful of
 * calls, and a wrapper library would cost it more bytes than the calls themselves.
 */
export class TagIndex {
  readonly name: string;
  #db: Promise<IDBDatabase> | undefined;

  constructor(name: string) {
    this.name = name;
  }

  #open(): Promise<IDBDatabase> {
    if (!this.#db) {
      const request = indexedDB.open(this.name, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        const entries = db.createObjectStore('entries', { keyPath: 'id' });
        entries.createIndex('tags', 'tags', { multiEntry: true });
        for (const name of ['cache', 'url', 'path', 'expiresAt']) entries.createIndex(name, name);
        entries.createIndex('age', ['cache', 'storedAt']);
        db.createObjectStore('meta');
      };
      this.#db = settle(request).then((db) => {
        // A newer worker upgrading the schema must not wait on this one.
        db.onversionchange = () => this.close();
        db.onclose = () => this.close();
        return db;
      });
      // A failed open is retried by the next call instead of being kept forever.
      this.#db.catch(() => this.close());
    }
    return this.#db;
  }

  async #store(name: StoreName = 'entries', mode: IDBTransactionMode = 'readonly'): Promise<IDBObjectStore> {
    return (await this.#open()).transaction(name, mode).objectStore(name);
  }

  /** Runs `write` in a read-write transaction; resolves once it is committed. */
  async #write(name: StoreName, write: (store: IDBObjectStore) => void): Promise<void> {
    const store = await this.#store(name, 'readwrite');
    const { transaction } = store;
    write(store);
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = transaction.onabort = () => reject(transaction.error);
    });
  }

  put(record: EntryRecord): Promise<void> {
    return this.#write('entries', (store) => store.put(record));
  }

  delete(ids: Iterable<string>): Promise<void> {
    return this.#write('entries', (store) => {
      for (const id of new Set(ids)) store.delete(id);
    });
  }

  /** Records whose `index` field holds one of `keys` (for tags: carries one of the tags). */
  async find(index: IndexName, keys: readonly string[]): Promise<EntryRecord[]> {
    const store = (await this.#store()).index(index);
    const found = new Map<string, EntryRecord>();
    for (const records of await Promise.all(keys.map((key) => settle<EntryRecord[]>(store.getAll(key))))) {
      for (const record of records) found.set(record.id, record);
    }
    return [...found.values()];
  }

  async all(): Promise<EntryRecord[]> {
    return settle((await this.#store()).getAll());
  }

  /** Records whose every window has passed at `now`, at most `limit`. */
  async expired(now: number, limit: number): Promise<EntryRecord[]> {
    return settle((await this.#store()).index('expiresAt').getAll(IDBKeyRange.upperBound(now), limit));
  }

  /** The oldest records of `cache` beyond the newest `keep` (first stored, first evicted). */
  async beyond(cache: string, keep: (count: number) => number): Promise<EntryRecord[]> {
    const range = IDBKeyRange.bound([cache, 0], [cache, Infinity]);
    const count = await settle((await this.#store()).index('age').count(range));
    const over = count - keep(count);
    return over > 0 ? settle((await this.#store()).index('age').getAll(range, over)) : [];
  }

  async getMeta(key: string): Promise<unknown> {
    return settle((await this.#store('meta')).get(key));
  }

  setMeta(key: string, value: unknown): Promise<void> {
    return this.#write('meta', (store) => store.put(value, key));
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
