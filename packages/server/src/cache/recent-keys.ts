import { RecencyMap } from './recency-map.js';

/**
 * Per-key records bounded to the `limit` most recently touched keys: touching a key moves it
 * last, and the oldest record goes once there are more than `limit`. Iterates oldest first.
 */
export class RecentKeys<V> implements Iterable<[string, V]> {
  readonly #records = new RecencyMap<V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The key's record, made by `create` when absent, now the most recent. */
  touch(key: string, create: () => V): V {
    const held = this.#records.touch(key);
    if (held !== undefined) return held;
    const record = create();
    this.#records.set(key, record);
    if (this.#records.size > this.#limit) this.#records.shift();
    return record;
  }

  get(key: string): V | undefined {
    return this.#records.get(key);
  }

  get size(): number {
    return this.#records.size;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.#records[Symbol.iterator]();
  }
}
