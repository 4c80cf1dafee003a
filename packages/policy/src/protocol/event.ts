/**
 * The purge event: the one payload that travels from the purge log to the service worker. The
 * bus delivers it to its subscribers, the purge stream carries it as an SSE event, the page
 * forwards it to the worker in a `strata:purge` message, and the worker applies it.
 */

/** The format version of the events this version writes (the `v` field). */
export const EVENT_FORMAT = 1;

/**
 * Why an event drops everything tagged rather than naming tags and keys:
 * - `clear-all`: an app's `clearAll()` (a log entry);
 * - `unreadable`: the entry could not be read (not JSON, or a newer format without tags and keys
 *   this version can read), so the reader drops everything rather than miss a purge;
 * - `retention`, `unknown`, `log-lost`: made by the bus, not found in the log — the subscriber's
 *   resume point is older than the log keeps, was never issued, or the log itself was lost.
 */
export type ResetReason = 'clear-all' | 'unreadable' | 'retention' | 'unknown' | 'log-lost';

export interface PurgeEvent {
  /** The format version the event was written in. Events written before versions existed read as 1. */
  v: number;
  /**
   * Its id in the log (`ms-seq`, ordered). For a reset the bus made, where the subscriber goes on
   * from: every purge up to it is covered by dropping everything tagged.
   */
  id: string;
  tags: string[];
  /** URLs or paths. A key without a query reaches every query variant of its path. */
  keys: string[];
  /** Set for purges of private content: only that partition's browsers may be told. Servers only. */
  partition?: string;
  /**
   * Set when the purge was a pattern over server cache keys: `keys` then lists only what the
   * shared store held, so an instance keeping entries of its own (its L1) drops them all. Servers only.
   */
  pattern?: string;
  /**
   * Server cache keys removed one by one from the shared store (the admin API's entry removal):
   * an instance keeping entries of its own (its L1, an in-process store) drops them. Servers only.
   */
  entries?: string[];
  /**
   * Who published it: a random token of the publishing instance, so that instance knows its own
   * events when the log brings them back (it did their store work before publishing them). A
   * reader that does not know the field applies the event as any other. Servers only.
   */
  publisher?: string;
  /** Drop everything tagged (whatever `tags` and `keys` say); `reason` says why. */
  all?: boolean;
  /** Why `all` is set: a `ResetReason`, or a reason a newer writer added. */
  reason?: string;
  /** When it was published (ms since the epoch). */
  at: number;
  /**
   * `soft`: the named entries turn stale instead of going — served for at most their
   * stale-while-revalidate window while one refresh runs. Absent: a hard purge. A reader that
   * does not know the field applies the event as a hard purge, which is always safe.
   */
  mode?: PurgeMode;
}

/** How a purge treats what it names: `hard` drops it, `soft` marks it stale. */
export type PurgeMode = 'hard' | 'soft';

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * Reads an event from its wire form (a stream entry, an SSE event's data, a worker message).
 * Fields it does not know are ignored. An absent `tags` or `keys` is an empty list in a format this
 * version knows. An event it cannot read — not an object, a `v` that is not a positive integer,
 * `tags` or `keys` that are not string arrays, or a newer format lacking either — becomes a reset
 * (`all`, reason `unreadable`): dropping everything tagged is safe, missing a purge is not. Never
 * throws. `at` is used when the data has none (the id's milliseconds, say).
 */
export function readPurgeEvent(id: string, data: unknown, at = 0): PurgeEvent {
  const raw = (typeof data === 'object' && data !== null ? data : { v: 0 }) as Record<string, unknown>;
  const v = raw.v === undefined ? 1 : raw.v;
  const known = Number.isSafeInteger(v) && (v as number) >= 1;
  const newer = known && (v as number) > EVENT_FORMAT;
  const list = (value: unknown) => (value === undefined && !newer ? [] : isStrings(value) ? [...value] : undefined);
  const tags = list(raw.tags);
  const keys = list(raw.keys);
  const event: PurgeEvent = {
    v: known ? (v as number) : EVENT_FORMAT,
    id,
    tags: tags ?? [],
    keys: keys ?? [],
    at: typeof raw.at === 'number' && Number.isFinite(raw.at) ? raw.at : at,
  };
  if (typeof raw.partition === 'string') event.partition = raw.partition;
  if (!known || !tags || !keys) Object.assign(event, { all: true, reason: 'unreadable' });
  else if (raw.all === true)
    Object.assign(event, { all: true, reason: typeof raw.reason === 'string' ? raw.reason : 'clear-all' });
  // Anything but a known `soft` reads as hard (an unknown mode must not keep purged entries), and
  // a reset is never soft.
  else if (raw.mode === 'soft') event.mode = 'soft';
  return event;
}
