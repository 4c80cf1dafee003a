import type { EntryRecord, TagIndex } from './tag-index.js';

export interface ExpirationOptions {
  /** Entries kept per cache (partition); the oldest stored go first. Unlimited when absent. */
  maxEntries?: number | undefined;
  now: () => number;
  /** The caches `maxEntries` applies to. */
  caches: () => Promise<string[]>;
  /** Removes records and their Cache Storage variants. */
  evict: (records: EntryRecord[]) => Promise<unknown>;
  /** Told about a failed pass; the next run starts afresh either way. */
  onError?: (error: unknown) => void;
}

const BATCH = 500;

/**
 * Drops entries no window can serve any more, and the oldest entries of a cache beyond
 * `maxEntries`. It runs off the hit path (after writes, on activate, on a timer), never on a read:
 * Workbox's ExpirationPlugin reads and writes IndexedDB on every hit.
 *
 * Runs never overlap: a run requested while one is going becomes one more pass after it. A failed
 * pass is reported and forgotten, so it can never leave the runner stuck (Workbox's
 * CacheExpiration keeps `_isRunning` set when IndexedDB throws, and never expires again).
 */
export class Expiration {
  readonly #index: Pick<TagIndex, 'expired' | 'beyond'>;
  readonly #options: ExpirationOptions;
  #running: Promise<boolean> | undefined;
  #again = false;

  constructor(index: Pick<TagIndex, 'expired' | 'beyond'>, options: ExpirationOptions) {
    this.#index = index;
    this.#options = options;
  }

  /** Runs a cleanup, or folds into the one running. Resolves false when a pass failed; never rejects. */
  run(): Promise<boolean> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop();
    return this.#running;
  }

  async #loop(): Promise<boolean> {
    let ok = true;
    do {
      this.#again = false;
      try {
        await this.#pass();
      } catch (error) {
        ok = false;
        this.#options.onError?.(error);
      }
    } while (this.#again);
    this.#running = undefined;
    return ok;
  }

  async #pass(): Promise<void> {
    const { now, maxEntries, evict, caches } = this.#options;
    // Bounded batches: a pass always ends, even if evicting fails to remove records.
    for (let i = 0; i < 20; i++) {
      const expired = await this.#index.expired(now(), BATCH);
      if (expired.length > 0) await evict(expired);
      if (expired.length < BATCH) break;
    }
    if (maxEntries === undefined) return;
    for (const cache of await caches()) {
      const over = await this.#index.beyond(cache, () => maxEntries);
      if (over.length > 0) await evict(over);
    }
  }
}
