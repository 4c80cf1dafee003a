import { StrataError } from '@strata/policy';

/**
 * The flight key of a load: the entry's key and the tag versions its caller read. A caller that
 * read newer versions (a purge landed since the running load started) must not join it, or a
 * read issued after a write would receive what the origin said before the write.
 */
export const flightKey = (key: string, versions: readonly number[]): string => `${key}\u0000${versions.join(',')}`;

/** The error every caller of a flight gets when the origin has not answered within the timeout. */
export const ORIGIN_TIMEOUT = 'E_ORIGIN_TIMEOUT';

export const isOriginTimeout = (error: unknown): boolean =>
  error instanceof StrataError && error.code === ORIGIN_TIMEOUT;

/**
 * Collapses concurrent calls for one key into one: the first caller runs `fn`, the others
 * await the same promise. The key is released as soon as the call settles, or when it has run
 * for `timeoutMs`: every caller then gets an `E_ORIGIN_TIMEOUT` StrataError, and the next call
 * for the key starts afresh (a hung origin holds nobody for longer than the timeout). The
 * timed-out call is left to finish on its own; whatever it does then reaches no caller.
 */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();
  readonly #timeoutMs: number;

  /** `timeoutMs`: how long a call may run before its callers give up. Default: no limit. */
  constructor(timeoutMs = Number.POSITIVE_INFINITY) {
    this.#timeoutMs = timeoutMs;
  }

  run(key: string, fn: () => Promise<T>): { promise: Promise<T>; leader: boolean } {
    const existing = this.#inflight.get(key);
    if (existing) return { promise: existing, leader: false };
    const promise = this.#bounded(fn()).finally(() => {
      if (this.#inflight.get(key) === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, promise);
    return { promise, leader: true };
  }

  #bounded(call: Promise<T>): Promise<T> {
    if (!Number.isFinite(this.#timeoutMs)) return call;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StrataError(ORIGIN_TIMEOUT, `the origin did not answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      timer.unref?.();
    });
    call.catch(() => {}); // a call that fails after its timeout has nobody left to tell
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  has(key: string): boolean {
    return this.#inflight.has(key);
  }

  get size(): number {
    return this.#inflight.size;
  }
}
