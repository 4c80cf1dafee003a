import { EVENT_FORMAT, type PurgeEvent, readPurgeEvent } from './event.js';

/**
 * The purge stream's wire format: `text/event-stream` (HTML §9.2) events the server writes and
 * the page reads. Each purge event is one SSE event: `id:` its log id, `data:` the rest of it as
 * JSON (its partition left out: a stream only carries its own user's; the fields only servers
 * read too: pattern, entries, publisher). An event that drops everything tagged has the type
 * `reset`, any other the type `message`. A `position` event tells a stream opened without a
 * resume point where it joined the log.
 */

/** The type of the event that tells a stream where it joined the log. */
export const SSE_POSITION = 'position';

/**
 * Writes one purge event (HTML §9.2.6), in this version's format. A reset names no tags or keys:
 * it drops everything anyway, and goes to every stream, whoever's partition it came from. The id
 * and the data never hold CR or LF here: ids are `ms-seq` and the data is one line of JSON, so
 * each is one field line.
 */
export function encodePurgeEvent(event: PurgeEvent): string {
  const { v: _, id, partition: __, pattern: ___, entries: ____, publisher: _____, ...fields } = event;
  if (event.all) return sseEvent('reset', id, { v: EVENT_FORMAT, ...fields, tags: [], keys: [] });
  return sseEvent(undefined, id, { v: EVENT_FORMAT, ...fields });
}

/** The `position` event: the stream joined the log after `id`. */
export const encodePosition = (id: string): string => sseEvent(SSE_POSITION, id, {});

function sseEvent(type: string | undefined, id: string, data: object): string {
  return `${type ? `event: ${type}\n` : ''}${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/** The `retry:` field (HTML §9.2.6): the reconnection delay, in ms, the server suggests. */
export const encodeSseRetry = (ms: number): string => `retry: ${ms}\n\n`;

/** A comment line: keeps proxies from closing an idle stream, ignored by parsers. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';

/**
 * What one dispatched SSE event means: a purge event (read by `readPurgeEvent`, so unknown fields
 * are ignored and an unreadable one is a reset), the stream's position, or undefined for an event
 * type this version does not know. A `reset` event is a reset whatever its data says.
 */
export function decodeSseEvent(sse: {
  type: string;
  data: string;
  lastEventId: string;
}): PurgeEvent | { position: string } | undefined {
  if (sse.type === SSE_POSITION) return { position: sse.lastEventId };
  if (sse.type !== 'message' && sse.type !== 'reset') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(sse.data);
  } catch {
    // not JSON: unreadable, read as a reset below
  }
  if (sse.type === 'reset') data = { ...(typeof data === 'object' ? data : {}), all: true };
  return readPurgeEvent(sse.lastEventId, data);
}
