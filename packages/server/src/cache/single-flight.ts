/**
 * Collapses concurrent calls for one key into one: the first caller runs `fn`, the others
 * await the same promise. The key is released as soon as the call settles.
 */

/**
 * The flight key of a load: the entry's key and the tag versions its caller read. A caller that
 * read newer versions (a purge landed since the running load started) must not join it, or a
 * read issued after a write would receive what the origin said before the write.
 */
export const flightKey = (key: string, versions: readonly number[]): string => `${key}\u0000${versions.join(',')}`;
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const existing = this.#inflight.get(key);
    if (existing) return { promise: existing, leader: false };
    const promise = fn().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return { promise, leader: true };
  }

  has(key: string): boolean {
    return this.#inflight.has(key);
  }

  get size(): number {
    return this.#inflight.size;
  }
}
