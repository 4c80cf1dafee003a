import { clientError } from './errors.js';

/** One dispatched event of an event stream. */
export interface SseEvent {
  /** The event type: `message` unless the stream named one. */
  type: string;
  data: string;
  /** The stream's last event ID when the event was dispatched ('' when none was sent). */
  lastEventId: string;
}

export interface SseHandlers {
  event(event: SseEvent): void;
  /** A `retry:` field: the reconnection time the server asks for, in ms. */
  retry(ms: number): void;
}

/** Most characters of one line or one event's data: a stream that never ends a line is cut, not buffered forever. */
export const MAX_EVENT_CHARS = 1 << 20;

const LF = 10;
const CR = 13;

/**
 * A parser for `text/event-stream` (HTML §9.2.5–6), fed with the bytes of a fetch body: UTF-8
 * decoded with one leading BOM stripped, lines ended by CRLF, LF or CR (a CRLF split across
 * chunks counts once), `:` comments ignored, `event`/`data`/`id`/`retry` fields (an id holding
 * NUL and a retry that is not all ASCII digits are ignored, other fields too), an event
 * dispatched on a blank line (none when its data is empty), and an event not ended by a blank
 * line when the stream ends dropped.
 */
export class SseParser {
  readonly #handlers: SseHandlers;
  // HTML §9.2.6: decode as UTF-8; TextDecoder drops one leading BOM (its `ignoreBOM` is false).
  readonly #decoder = new TextDecoder('utf-8');
  #rest = '';
  /** The last chunk ended in CR: an LF starting the next one belongs to it. */
  #afterCR = false;
  #data = '';
  #type = '';
  #lastEventId = '';

  constructor(handlers: SseHandlers) {
    this.#handlers = handlers;
  }

  /** The last event ID buffer (HTML §9.2.6): what a reconnection sends as Last-Event-ID. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Parses a chunk; throws E_STREAM_FAILED when a line or an event outgrows `MAX_EVENT_CHARS`. */
  push(chunk: Uint8Array): void {
    this.#feed(this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: a pending line is processed only if a CR ended it; an unfinished event is dropped. */
  end(): void {
    this.#feed(this.#decoder.decode());
    this.#rest = '';
    this.#data = '';
    this.#type = '';
  }

  #feed(text: string): void {
    const buffer = this.#rest + text;
    let start = this.#afterCR && buffer.charCodeAt(0) === LF ? 1 : 0;
    this.#afterCR = false;
    for (let i = start; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      this.#line(buffer.slice(start, i));
      if (c === CR) {
        if (i + 1 === buffer.length) this.#afterCR = true;
        else if (buffer.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    this.#rest = buffer.slice(start);
    if (this.#rest.length + this.#data.length > MAX_EVENT_CHARS) {
      throw clientError('E_STREAM_FAILED', `an event of the purge stream exceeds ${MAX_EVENT_CHARS} characters`);
    }
  }

  #line(line: string): void {
    if (line === '') return void this.#dispatch();
    if (line.charCodeAt(0) === 58) return; // `:` a comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data += `${value}\n`;
    else if (field === 'id' && !value.includes('\0')) this.#lastEventId = value;
    else if (field === 'retry' && /^[0-9]+$/.test(value)) this.#handlers.retry(Number(value));
  }

  #dispatch(): void {
    const type = this.#type || 'message';
    const data = this.#data;
    this.#data = '';
    this.#type = '';
    if (data === '') return;
    this.#handlers.event({ type, data: data.slice(0, -1), lastEventId: this.#lastEventId });
  }
}
