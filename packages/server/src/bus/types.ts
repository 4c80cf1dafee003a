import type { PurgeEvent } from '@strata/policy/protocol';

/**
 * What a subscriber receives: the purge event of `@strata/policy/protocol`, the same object the
 * stream then carries to the browsers. Events come in log order. A reset is an event with `all`
 * set: from the log (`reason` `clear-all`, or `unreadable` for an entry this version cannot
 * read), or made by the bus when it cannot catch the subscriber up exactly (`retention`,
 * `unknown`, `log-lost`: purges may have been missed). A reset the bus made has no place in the
 * log: its `id` is where the subscriber continues from (resume from it after a reconnect), the
 * log's newest id, which every purge up to then is covered by, or `0-0` when the log is empty.
 * Either way the subscriber drops everything tagged.
 */
export type { PurgeEvent };

/** What a subscriber is called with: one event at a time, in log order. */
export type Listener = (event: PurgeEvent) => void;

/** An event as `publish` takes it: the log assigns the id, the bus writes its own format version. */
export type NewPurgeEvent = Omit<PurgeEvent, 'id' | 'v'>;

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
  publish(event: NewPurgeEvent): Promise<string>;
  /**
   * Calls `listener` with every event after `from` (exclusive) in order, then live events as
   * they are published. Without `from`, only events published from now on: every event this
   * instance publishes after the call, and those of other instances from the moment this one has
   * read the log's end (there is no causal "before" across processes; resume from an id to be
   * exact). When `from` is older than the retained log, unknown, or the log was lost, the first
   * event is a reset. Events are delivered asynchronously, never before `subscribe` returns.
   */
  subscribe(from: string | undefined, listener: Listener): Subscription;
  stats(): BusStats;
  close(): Promise<void>;
}
