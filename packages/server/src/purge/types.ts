/** The result of a purge sent as its own event. */
export interface PurgeResult {
  /** The purge's id in the log; `queued:<n>` while the log is unreachable. */
  id: string;
  /** True when the purge waits in the outbox for the store or the log to come back. */
  queued: boolean;
  tags: string[];
  keys: string[];
}

/**
 * What `purge()` resolves to inside `batch()`, at once: the batch's one event is only sent when
 * the callback has returned. `id` resolves to that event's id then (`queued:<n>` when the log is
 * unreachable), and rejects when the batch fails. Await `id` after `batch()`, not inside its
 * callback: there it would wait for the callback, which waits for it.
 */
export interface BatchedPurgeResult {
  batched: true;
  id: Promise<string>;
  queued: true;
  tags: string[];
  keys: string[];
}
