/**
 * The purge stream's wire format: `text/event-stream` (HTML §9.2) frames the server writes and
 * the page reads. A purge is an unnamed event (type `message`) whose data is `{ tags, keys }`; a
 * `reset` event means "drop everything" (the log no longer reaches back, or a clear-all); a
 * `position` event tells a stream opened without a resume point where it joined the log.
 */

/** The data of a purge event. A purge naming a partition reaches only that partition's streams. */
export interface PurgeData {
  tags: string[];
  keys: string[];
}
/** The data of a reset event: why everything must go (`clear-all`, or the log's own reason). */
export interface ResetData {
  reason: string;
}

/** One event the server writes: a purge, a reset or the stream's position in the log. */
export type SseFrame =
  | { event?: undefined; id?: string; data: PurgeData }
  | { event: 'reset'; id?: string; data: ResetData }
  | { event: 'position'; id: string; data: Record<string, never> };

/** One purge as the page applies it. */
export interface PurgeFrame {
  /** The SSE event id ('' when the server sent none). */
  id: string;
  /** `position`: where a stream opened without a resume point joined the log (nothing to apply). */
  kind: 'purge' | 'reset' | 'position';
  tags: string[];
  keys: string[];
}

/**
 * Writes one event (HTML §9.2.6). The id and the data never hold CR or LF here: ids are
 * `ms-seq` and the data is one line of JSON, so each is one field line.
 */
export function encodeSseEvent(frame: SseFrame): string {
  let text = '';
  if (frame.event) text += `event: ${frame.event}\n`;
  if (frame.id) text += `id: ${frame.id}\n`;
  return `${text}data: ${JSON.stringify(frame.data)}\n\n`;
}

/** The `retry:` field (HTML §9.2.6): the reconnection delay, in ms, the server suggests. */
export const encodeSseRetry = (ms: number): string => `retry: ${ms}\n\n`;

/** A comment line: keeps proxies from closing an idle stream, ignored by parsers. */
export const SSE_HEARTBEAT = ': heartbeat\n\n';

const KINDS: Record<string, PurgeFrame['kind']> = { message: 'purge', reset: 'reset', position: 'position' };

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * The frame one dispatched event carries, or undefined for an event type this version does not
 * know. Data that is not JSON, and fields it does not know, are a purge of nothing, so the id is
 * still recorded.
 */
export function decodePurgeFrame(event: { type: string; data: string; lastEventId: string }): PurgeFrame | undefined {
  const kind = KINDS[event.type];
  if (kind === undefined) return undefined;
  let data: Record<string, unknown> | null = {};
  try {
    data = JSON.parse(event.data || '{}') as Record<string, unknown> | null;
  } catch {
    // not JSON: a purge of nothing
  }
  return { id: event.lastEventId, kind, tags: strings(data?.tags), keys: strings(data?.keys) };
}
