import type { NewPurgeEvent } from '../bus/types.js';

/** Where a purge has to go: the store (its tag bumps, or a clear) and the log (its event). */
export interface OutboxTargets {
  /** Bumps `tags`; with `softAt`, as a soft purge made at that time (`Store.softBump`). */
  bump(tags: string[], softAt?: number): Promise<unknown>;
  /** Drops every entry of the store (a clear-all). Without it, a clear-all only goes to the log. */
  clear?(): Promise<unknown>;
  publish(event: NewPurgeEvent): Promise<string>;
}

export interface OutboxOptions {
  /** Most purges kept; past it they collapse into one clear-all (default 10 000). */
  max?: number;
  /** First retry delay after a failed flush, doubled per failure up to `maxRetryMs` (default 100). */
  retryMs?: number;
  /** Longest retry delay (default 5 000). */
  maxRetryMs?: number;
  /** Clock in ms, the one entries are stored with (default `Date.now`). */
  now?: () => number;
}

/** What a purge asks of the store besides bumping tags. */
export interface DeliverOptions {
  /** Clear the whole store first (a clear-all). */
  clear?: boolean;
  /** The purge may name entries no tag says (a pattern): until it reaches the store, trust no entry. */
  everything?: boolean;
}

/**
 * A purge waiting for the store (`bumps` still to apply, or a `clear`) and/or the log (its event).
 * `everything`: until its store work is done, no entry may be served (a clear-all or a pattern).
 */
interface Pending {
  bumps: string[] | undefined;
  clear: boolean;
  everything: boolean;
  event: NewPurgeEvent;
  placeholder: string;
  /** When it was queued, by `now`. */
  at: number;
  /** Whether the outbox counts what its store work names (it is in the queue). */
  tracked: boolean;
}

/** When a soft purge was made (its event's `at`), or undefined for a hard one. */
const softAt = (pending: Pending): number | undefined => (pending.event.mode === 'soft' ? pending.event.at : undefined);

/** The outcome of delivering one purge: the log's id, or `queued:<n>` when it waits. */
export interface Delivery {
  id: string;
  queued: boolean;
}

/**
 * The ordered outbox: a purge that cannot reach the store or the log waits here, and every later
 * purge waits behind it, so the log holds purges in the order they were made. Its state is the
 * queue, the flush in progress (at most one), the retry timer with its current delay, and what
 * the waiting store work names: reads of entries under those tags (or of any entry, while a
 * clear-all or a pattern waits, or stored since the store fell behind) must bypass the store.
 */
export class Outbox {
  readonly #targets: OutboxTargets;
  readonly #max: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #now: () => number;
  readonly #queue: Pending[] = [];
  /**
   * Tags with bumps still to reach the store, each with the number of waiting purges naming it.
   * Bounded by the queue: at most `max` purges, each with its own bounded list.
   */
  readonly #named = new Map<string, number>();
  /** Waiting purges whose store work may name any entry (clear-all, pattern). */
  #everything = 0;
  /** Waiting purges with store work left, and when the first of them was queued. */
  #behind = 0;
  #behindSince: number | undefined;
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
    this.#now = options.now ?? Date.now;
    this.#retryDelay = this.#retryMs;
  }

  get size(): number {
    return this.#queue.length;
  }

  /** True while some store work (tag bumps, a clear) waits: the store is behind the purges made. */
  get storeBehind(): boolean {
    return this.#behind > 0;
  }

  /**
   * Whether a read must not trust the store: a waiting purge names one of `tags` (an entry's
   * tags, its URL's tag among them) or may name any entry; or, given `storedAt`, the entry was
   * stored after the store fell behind (its write could not be ordered with the waiting bumps).
   */
  distrusts(tags: readonly string[], storedAt?: number): boolean {
    if (this.#queue.length === 0) return false;
    if (this.#everything > 0) return true;
    if (this.#named.size > 0 && tags.some((tag) => this.#named.has(tag))) return true;
    return storedAt !== undefined && this.#behindSince !== undefined && storedAt >= this.#behindSince;
  }

  /**
   * Clears the store when asked, bumps `bumps` in it, then publishes `event` (`bumps` undefined:
   * nothing to bump). When a step fails, the purge waits with what is left of it. Store work
   * commutes (a bump is an increment, a clear drops entries), so it is done at once whatever
   * waits; events do not: while an earlier purge waits, this one's event waits behind it, so the
   * log holds purges in the order they were made.
   */
  async deliver(bumps: string[] | undefined, event: NewPurgeEvent, options: DeliverOptions = {}): Promise<Delivery> {
    const pending = this.#pending(bumps, event, options);
    try {
      await this.#storeWork(pending);
    } catch {
      return { id: this.#enqueue(pending), queued: true };
    }
    if (this.#queue.length > 0) {
      const id = this.#enqueue(pending);
      void this.flush();
      return { id, queued: true };
    }
    try {
      return { id: await this.#targets.publish(event), queued: false };
    } catch {
      return { id: this.#enqueue(pending), queued: true };
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

  #pending(bumps: string[] | undefined, event: NewPurgeEvent, options: DeliverOptions): Pending {
    return {
      bumps: bumps && bumps.length > 0 ? bumps : undefined,
      clear: options.clear === true && this.#targets.clear !== undefined,
      everything: options.everything === true || event.all === true,
      event,
      placeholder: '',
      at: this.#now(),
      tracked: false,
    };
  }

  /** A purge's store work, not yet queued (`deliver`): each step marked done as it succeeds. */
  async #storeWork(pending: Pending): Promise<void> {
    if (pending.clear) {
      await this.#targets.clear?.();
      pending.clear = false;
    }
    if (pending.bumps) {
      await this.#targets.bump(pending.bumps, softAt(pending));
      pending.bumps = undefined;
    }
    pending.everything = false;
  }

  /**
   * The store work of every waiting purge at once — one clear if any asks for it, one bump of
   * all their tags — so the store catches up in a round trip or two however long the queue. A
   * tag only soft purges name is bumped soft, as of the earliest of them; any hard purge of a tag
   * makes its bump hard.
   */
  async #catchUpStore(): Promise<void> {
    if (this.#behind === 0) return;
    const behind = this.#queue.filter(hasStoreWork);
    if (behind.some((p) => p.clear)) await this.#targets.clear?.();
    const hard = new Set(behind.flatMap((p) => (softAt(p) === undefined ? (p.bumps ?? []) : [])));
    const soft = new Map<string, number>();
    for (const p of behind) {
      const at = softAt(p);
      if (at === undefined) continue;
      for (const tag of p.bumps ?? []) if (!hard.has(tag)) soft.set(tag, Math.min(at, soft.get(tag) ?? at));
    }
    await this.#bumpInBatches([...hard]);
    for (const at of new Set(soft.values())) {
      await this.#bumpInBatches(
        [...soft].filter(([, when]) => when === at).map(([tag]) => tag),
        at,
      );
    }
    for (const pending of behind) {
      if (!pending.tracked) continue; // dropped by an overflow meanwhile: counted no more
      if (pending.bumps) this.#count(pending.bumps, -1);
      if (pending.everything) this.#everything--;
      this.#behind--;
      pending.bumps = undefined;
      pending.clear = false;
      pending.everything = false;
    }
    this.#behindSince = this.#behind === 0 ? undefined : this.#queue.find(hasStoreWork)?.at;
  }

  async #bumpInBatches(tags: string[], at?: number): Promise<void> {
    for (let i = 0; i < tags.length; i += BUMP_BATCH) await this.#targets.bump(tags.slice(i, i + BUMP_BATCH), at);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        await this.#catchUpStore();
        const next = this.#queue[0] as Pending;
        await this.#targets.publish(next.event);
        // A purge that overflowed the queue meanwhile has already been replaced by a clear-all.
        if (this.#queue[0] === next) this.#queue.shift();
      }
      this.#retryDelay = this.#retryMs;
    } catch {
      this.#retryDelay = Math.min(this.#retryDelay * 2, this.#maxRetryMs);
      this.#scheduleRetry();
    }
  }

  #enqueue(pending: Pending): string {
    pending.placeholder = `queued:${++this.#issued}`;
    if (this.#queue.length >= this.#max) {
      // Too much to replay one by one: one event that makes every reader drop everything tagged.
      const dropped = this.#queue.splice(0);
      for (const p of dropped) p.tracked = false;
      this.#named.clear();
      this.#everything = 0;
      this.#behind = 0;
      this.#behindSince = undefined;
      this.#track({
        bumps: [...new Set(dropped.flatMap((p) => p.bumps ?? []))],
        clear: dropped.some((p) => p.clear),
        everything: true,
        event: { tags: [], keys: [], all: true, reason: 'clear-all', at: pending.event.at },
        placeholder: pending.placeholder,
        at: dropped.reduce((first, p) => Math.min(first, p.at), pending.at),
        tracked: false,
      });
    }
    this.#track(pending);
    this.#scheduleRetry();
    return pending.placeholder;
  }

  /** Queues a purge and counts what its store work names. */
  #track(pending: Pending): void {
    if (pending.bumps?.length === 0) pending.bumps = undefined;
    if (!hasStoreWork(pending)) pending.everything = false;
    if (pending.bumps) this.#count(pending.bumps, 1);
    if (pending.everything) this.#everything++;
    if (hasStoreWork(pending)) {
      this.#behind++;
      this.#behindSince ??= pending.at;
    }
    pending.tracked = true;
    this.#queue.push(pending);
  }

  #count(tags: readonly string[], delta: 1 | -1): void {
    for (const tag of new Set(tags)) {
      const n = (this.#named.get(tag) ?? 0) + delta;
      if (n > 0) this.#named.set(tag, n);
      else this.#named.delete(tag);
    }
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

const hasStoreWork = (pending: Pending): boolean => pending.bumps !== undefined || pending.clear;

/** Most tags one catch-up bump sends to the store, so no single call outlasts the store's timeout. */
const BUMP_BATCH = 500;
