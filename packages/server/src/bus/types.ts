/** One purge, as every subscriber sees it. */
export interface PurgeEvent {
  /** The bus's id for it: ordered, comparable with `compareIds` (Redis stream id form `ms-seq`). */
  id: string;
  tags: string[];
  /** URLs or paths whose every variant is purged. */
  keys: string[];
  /** Set for purges of private content: only that partition's browsers may be told. */
  partition?: string;
  /** Drop everything tagged (a `clear-all`). */
  all?: boolean;
  /**
   * Set when the purge was a pattern: `keys` then lists only what the shared store held, so an
   * instance keeping entries of its own (the L1) drops them all.
   */
  pattern?: string;
  /** When it was published (ms since epoch). */
  at: number;
}

/** What a subscriber receives: purges in order, or a reset when it cannot be caught up exactly. */
export type BusMessage =
  | { type: 'purge'; event: PurgeEvent }
  /**
   * The resume point is older than what the bus retains, unknown, or the log was lost (a Redis
   * restart without persistence): purges may have been missed, so drop everything tagged.
   * `id` is where the subscriber continues from (resume from it after a reconnect): the log's
   * newest id, which every purge up to then is covered by, or `0-0` when the log is empty.
   */
  | { type: 'reset'; id: string | undefined; reason: 'retention' | 'unknown' | 'log-lost' };

export interface Subscription {
  close(): void;
}

export interface BusStats {
  /** Newest id published, as far as this instance knows. */
  lastId: string | undefined;
  /** Events retained for replay. */
  retained: number;
  /** Local subscribers. */
  subscribers: number;
  /** ms between the newest event's publication and this instance receiving it (0 when caught up). */
  lagMs: number;
  connected: boolean;
}

/**
 * The purge log: durable and ordered. Every purge is one event with an id; subscribers resume
 * from the last id they applied and receive every later event in order, or a `reset` when that
 * cannot be guaranteed. Delivery to one subscriber never repeats an id.
 */
export interface Bus {
  /**
   * True when other instances publish to and read the same log (Redis); false or absent for a
   * log of this process only. The in-process tier (L1) is kept exact by the log, so it is only
   * on by default when the log is shared.
   */
  readonly shared?: boolean;
  /** Appends one event; resolves to its id once the log has accepted it. Rejects when the log is unreachable. */
  publish(event: Omit<PurgeEvent, 'id'>): Promise<string>;
  /**
   * Calls `listener` with every event after `from` (exclusive) in order, then live events as
   * they are published. Without `from`, only events published from now on: every event this
   * instance publishes after the call, and those of other instances from the moment this one has
   * read the log's end (there is no causal "before" across processes; resume from an id to be
   * exact). When `from` is older than the retained log, unknown, or the log was lost, the first
   * message is a `reset`. Messages are delivered asynchronously, never before `subscribe` returns.
   */
  subscribe(from: string | undefined, listener: (message: BusMessage) => void): Subscription;
  stats(): BusStats;
  close(): Promise<void>;
}
