import { readPurgeEvent } from '@strata/policy/protocol';
import { frozen } from './event.js';
import { isValidId, ZERO_ID } from './ids.js';
import type { Connection } from './redis-connection.js';
import { resumeDecision } from './resume.js';
import type { PurgeEvent } from './types.js';

/** The one field of a stream entry: the event as JSON, without its id (the entry's id is). */
export const FIELD = 'event';

/** The stream as one atomic look (MULTI): its bookkeeping and a page of entries from a position. */
export interface Snapshot {
  exists: boolean;
  length: number;
  lastGenerated: string;
  /** Highest id removed by XDEL (Redis 7). Trimming does not move it: see `removed`. */
  maxDeleted: string;
  /** Whether any entry ever left the stream (`entries-added` > `length`); assumed on Redis < 7. */
  removed: boolean;
  first: string | undefined;
  /** From the requested position, inclusive: the first one tells whether that id is still there. */
  entries: [id: string, fields: unknown][];
}

/** Whether a stream still holds every event after a position; 'unknown' is read as 'log-lost' by the reader. */
export type Verdict = 'ok' | 'retention' | 'unknown';

/**
 * One atomic look at the stream: `XINFO STREAM`, and with `from` up to `count` entries from it
 * (`XRANGE`, inclusive), in one MULTI so the bookkeeping and the entries agree.
 */
export async function snapshot(
  c: Connection,
  stream: string,
  from: string | undefined,
  count: number,
): Promise<Snapshot> {
  const transaction = c.multi().addCommand(['XINFO', 'STREAM', stream]);
  if (from !== undefined) transaction.addCommand(['XRANGE', stream, from, '+', 'COUNT', String(count)]);
  let replies: unknown[];
  try {
    replies = await transaction.exec();
  } catch (error) {
    if (isNoSuchKey(error)) {
      return {
        exists: false,
        length: 0,
        lastGenerated: ZERO_ID,
        maxDeleted: ZERO_ID,
        removed: false,
        first: undefined,
        entries: [],
      };
    }
    throw error;
  }
  const info = record(replies[0]);
  const length = Number(info.get('length') ?? 0);
  const added = info.get('entries-added');
  const firstEntry = info.get('first-entry');
  return {
    exists: true,
    length,
    lastGenerated: idOr(info.get('last-generated-id'), ZERO_ID),
    maxDeleted: idOr(info.get('max-deleted-entry-id'), ZERO_ID),
    removed: added === undefined || Number(added) > length,
    first: Array.isArray(firstEntry) && isValidId(String(firstEntry[0])) ? String(firstEntry[0]) : undefined,
    entries: entriesOf(replies[1]),
  };
}

/** Whether the events after `from` are all in the stream (the resume rules of `resumeDecision`). */
export function classify(from: string, snap: Snapshot): Verdict {
  const decision = resumeDecision(from, {
    newest: snap.exists ? snap.lastGenerated : undefined,
    oldest: snap.first,
    trimmed: snap.removed,
    removedThrough: snap.maxDeleted,
    holdsFrom: snap.entries[0]?.[0] === from,
  });
  return decision.type === 'reset' ? decision.reason : 'ok';
}

/** Where a reader goes on from after a look at the stream: its newest id, or `0-0` when there is none. */
export const endOf = (snap: Snapshot): string => (snap.exists ? snap.lastGenerated : ZERO_ID);

/**
 * A stream entry as the event it holds, read by `readPurgeEvent`: fields this version does not
 * know are ignored, and an entry it cannot read (not an event this bus wrote, or a newer format
 * without tags and keys it can read) is a reset, which keeps the order and loses nothing.
 */
export function decode([id, fields]: [string, unknown]): PurgeEvent {
  let data: unknown;
  try {
    data = JSON.parse(String(record(fields).get(FIELD)));
  } catch {
    // not JSON: read as unreadable
  }
  const event = readPurgeEvent(id, data, Number(id.split('-')[0]));
  // Fields only servers read (the page's reader leaves them out): a pattern purge's own pattern,
  // the server keys of entries removed one by one, and who published it (a clear-all too).
  const { pattern, entries, publisher } = (data ?? {}) as { pattern?: unknown; entries?: unknown; publisher?: unknown };
  if (typeof pattern === 'string' && !event.all) event.pattern = pattern;
  if (Array.isArray(entries) && entries.every((key) => typeof key === 'string') && !event.all) event.entries = entries;
  if (typeof publisher === 'string') event.publisher = publisher;
  return frozen(event);
}

/** `ERR no such key` from XINFO inside a transaction (node-redis: MultiErrorReply). */
function isNoSuchKey(error: unknown): boolean {
  const replies = (error as { replies?: unknown } | null)?.replies;
  const failed = Array.isArray(replies) ? replies : [error];
  return failed.some((reply) => reply instanceof Error && /no such key/i.test(reply.message));
}

/** A RESP3 map (object or Map) or a RESP2 flat list of pairs, as a Map. */
function record(reply: unknown): Map<string, unknown> {
  if (reply instanceof Map) return new Map([...reply].map(([key, value]) => [String(key), value]));
  if (Array.isArray(reply)) {
    const map = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
    return map;
  }
  if (reply !== null && typeof reply === 'object') return new Map(Object.entries(reply));
  return new Map();
}

function idOr(value: unknown, fallback: string): string {
  const id = value === undefined || value === null ? '' : String(value);
  return isValidId(id) ? id : fallback;
}

/** XRANGE / one stream of XREAD: `[[id, [field, value, …]], …]`. */
export function entriesOf(reply: unknown): [string, unknown][] {
  if (!Array.isArray(reply)) return [];
  const entries: [string, unknown][] = [];
  for (const item of reply) {
    if (Array.isArray(item) && isValidId(String(item[0]))) entries.push([String(item[0]), item[1]]);
  }
  return entries;
}

/** One stream's entries out of an XREAD reply: RESP3 map, RESP2 `[[key, entries]]`, or null on timeout. */
export function streamOf(reply: unknown, stream: string): unknown {
  if (Array.isArray(reply)) {
    for (const item of reply) if (Array.isArray(item) && String(item[0]) === stream) return item[1];
    return undefined;
  }
  if (reply instanceof Map) return reply.get(stream);
  if (reply !== null && typeof reply === 'object' && Object.hasOwn(reply, stream)) {
    return (reply as Record<string, unknown>)[stream];
  }
  return undefined;
}
