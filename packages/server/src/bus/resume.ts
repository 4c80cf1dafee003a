import { compareIds, isValidId, ZERO_ID } from './ids.js';

/** What a log knows about its own history when a subscriber asks to resume after `from`. */
export interface LogBounds {
  /** The newest id the log ever issued; undefined when there is no log (nothing was ever written). */
  newest: string | undefined;
  /** The oldest id still retained; undefined when none is. */
  oldest: string | undefined;
  /**
   * Whether events before `oldest` may have left the log without it knowing which (Redis
   * trimming). False when every removed id is at or below `removedThrough` (the memory ring).
   */
  trimmed: boolean;
  /** The highest id known to be removed (memory: the last dropped; Redis: XDEL's max-deleted-entry-id). */
  removedThrough: string | undefined;
  /** Whether `from` itself is in the log: a retained id, or the last dropped one of the memory ring. */
  holdsFrom: boolean;
}

/**
 * Where a subscriber starting at `from` stands:
 * - 'live': no `from`, only events published from now on;
 * - 'replay' from `from`: every retained event after it, then live ones (nothing between is missing);
 * - 'reset' 'retention': `from` is older than what the log still holds;
 * - 'reset' 'unknown': `from` is newer than the newest id, was never issued, or is not an id.
 */
export type ResumeDecision =
  | { type: 'live' }
  | { type: 'replay'; from: string }
  | { type: 'reset'; reason: 'retention' | 'unknown' };

const LIVE: ResumeDecision = { type: 'live' };
const RETENTION: ResumeDecision = { type: 'reset', reason: 'retention' };
const UNKNOWN: ResumeDecision = { type: 'reset', reason: 'unknown' };

/** The resume rules every bus applies (see `memoryBus`), as a pure function of the log's bounds. */
export function resumeDecision(from: string | undefined, log: LogBounds): ResumeDecision {
  if (from === undefined) return LIVE;
  if (!isValidId(from)) return UNKNOWN;
  if (log.newest === undefined) return from === ZERO_ID ? { type: 'replay', from } : UNKNOWN;
  if (compareIds(from, log.newest) > 0) return UNKNOWN;
  if (log.removedThrough !== undefined && compareIds(from, log.removedThrough) < 0) return RETENTION;
  if (log.holdsFrom) return { type: 'replay', from };
  if (log.oldest === undefined || compareIds(from, log.oldest) < 0) {
    // Before the oldest retained id: if trimming removed anything, what followed `from` may be
    // gone (unless `from` is the newest id); if nothing was, `from` predates this log.
    if (log.trimmed) return from === log.newest ? { type: 'replay', from } : RETENTION;
    return from === ZERO_ID ? { type: 'replay', from } : UNKNOWN;
  }
  return from === log.removedThrough ? { type: 'replay', from } : UNKNOWN;
}
