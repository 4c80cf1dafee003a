import type { NewPurgeEvent } from '../bus/types.js';

/** Where a purge has to go: the store (its tag bumps) and the log (its event). */
export interface OutboxTargets {
  bump(tags: string[]): Promise<unknown>;
  publish(event: NewPurgeEvent): Promise<string>;
}

export interface OutboxOptions {
  /** Most purges kept; past it they collapse into one clear-all (default 10 000). */
  max?: number;
  /** First retry delay after a failed flush, doubled per failure up to `maxRetryMs` (default 100). */
  retryMs?: number;
  /** Longest retry delay (default 5 000). */
  maxRetryMs?: number;
}

/** A purge waiting for the store (`bumps` still to apply) and/or the log (its event). */
interface Pending {
  bumps: string[] | undefined;
  event: NewPurgeEvent;
  placeholder: string;
}

/** The outcome of delivering one purge: the log's id, or `queued:<n>` when it waits. */
export interface Delivery {
  id: string;
  queued: boolean;
}

/**
 * The ordered outbox: a purge that cannot reach the store or the log waits here, and every later
 * purge waits behind it, so the log holds purges in the order they were made. Its state is the
 * queue, the flush in progress (at most one), and the retry timer with its current delay.
 */
export class Outbox {
  readonly #targets: OutboxTargets;
  readonly #max: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #queue: Pending[] = [];
  /** Placeholders handed out so far (`queued:<n>`). */
  #issued = 0;
  #flushing: Promise<void> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryDelay: number;

  constructor(targets: OutboxTargets, options: OutboxOptions = {}) {
    this.#targets = targets;
    this.#max = options.max ?? 10_000;
    this.#retryMs = options.retryMs ?? 100;
    this.#maxRetryMs = options.maxRetryMs ?? 5_000;
    this.#retryDelay = this.#retryMs;
  }

  get size(): number {
    return this.#queue.length;
  }

  /** True while some tag bumps could not reach the store: server cache reads must not be trusted. */
  get storeBehind(): boolean {
    return this.#queue.some((pending) => pending.bumps !== undefined);
  }

  /**
   * Bumps `bumps` in the store, then publishes `event` (`bumps` undefined: nothing to bump). When
   * either fails, or an earlier purge still waits, the purge waits in order behind the others.
   */
  async deliver(bumps: string[] | undefined, event: NewPurgeEvent): Promise<Delivery> {
    // Order matters: nothing overtakes a purge already waiting.
    if (this.#queue.length > 0) {
      const id = this.#enqueue(bumps, event);
      void this.flush();
      return { id, queued: true };
    }
    let bumped = bumps === undefined || bumps.length === 0;
    try {
      if (!bumped) await this.#targets.bump(bumps as string[]);
      bumped = true;
      return { id: await this.#targets.publish(event), queued: false };
    } catch {
      return { id: this.#enqueue(bumped ? undefined : bumps, event), queued: true };
    }
  }

  /** Sends what waits, in order; stops at the first failure and retries with backoff. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Stops retrying. What waits stays, for a last `flush()`. */
  close(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const next = this.#queue[0] as Pending;
        if (next.bumps) {
          await this.#targets.bump(next.bumps);
          next.bumps = undefined;
        }
        await this.#targets.publish(next.event);
        this.#queue.shift();
      }
      this.#retryDelay = this.#retryMs;
    } catch {
      this.#retryDelay = Math.min(this.#retryDelay * 2, this.#maxRetryMs);
      this.#scheduleRetry();
    }
  }

  #enqueue(bumps: string[] | undefined, event: NewPurgeEvent): string {
    const placeholder = `queued:${++this.#issued}`;
    if (this.#queue.length >= this.#max) {
      // Too much to replay one by one: one event that makes every reader drop everything tagged.
      const dropped = this.#queue.splice(0);
      this.#queue.push({
        bumps: [...new Set(dropped.flatMap((p) => p.bumps ?? []))],
        event: { tags: [], keys: [], all: true, reason: 'clear-all', at: event.at },
        placeholder,
      });
    }
    this.#queue.push({ bumps: bumps && bumps.length > 0 ? bumps : undefined, event, placeholder });
    this.#scheduleRetry();
    return placeholder;
  }

  #scheduleRetry(): void {
    if (this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.flush();
    }, this.#retryDelay);
    this.#retryTimer.unref?.();
  }
}
