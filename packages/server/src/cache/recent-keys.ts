/**
 * Per-key records bounded to the `limit` most recently touched keys: touching a key moves it
 * last, and the oldest record goes once there are more than `limit`. Iterates oldest first.
 */
export class RecentKeys<V> implements Iterable<[string, V]> {
  readonly #records = new Map<string, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The key's record, made by `create` when absent, now the most recent. */
  touch(key: string, create: () => V): V {
    let record = this.#records.get(key);
    if (record === undefined) record = create();
    else this.#records.delete(key);
    this.#records.set(key, record); // re-inserted last: the map's order is recency
    if (this.#records.size > this.#limit) this.#records.delete(this.#records.keys().next().value as string);
    return record;
  }

  get(key: string): V | undefined {
    return this.#records.get(key);
  }

  get size(): number {
    return this.#records.size;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.#records.entries();
  }
}
