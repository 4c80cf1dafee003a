import { decodeSseEvent } from '@strata/policy/protocol';
import { clientError } from './errors.js';
import { type SseEvent, SseParser } from './sse.js';

export interface StreamOptions {
  /** The URL to connect to, built afresh for each connection (it carries the resume point). */
  url: () => string;
  /** The app's headers (its credential), asked afresh for each connection, so a refreshed token applies. */
  headers: () => HeadersInit | Promise<HeadersInit>;
  credentials: RequestCredentials;
  /** The resume point sent as Last-Event-ID (the last applied id), or null. */
  lastEventId: () => string | null;
  /**
   * Applies one purge event (forwards it to the worker and records it), or records where the
   * stream joined the log. Throwing makes the stream reconnect.
   */
  apply: (event: NonNullable<ReturnType<typeof decodeSseEvent>>) => Promise<void>;
  /** The stream is down: purges made meanwhile are replayed on reconnect. */
  onOffline: () => void;
  initialDelay: number;
  maxDelay: number;
}

/**
 * The purge stream, held by the leader tab and read with `fetch` rather than `EventSource`, so
 * it carries the app's credential (an `Authorization` header, or cookies) and the server can
 * send the user's own private purges. Events are applied one at a time, in order. On an error —
 * the connection dropped or ended, an answer other than a 200 `text/event-stream`, a purge the
 * worker could not apply — the stream reconnects after a growing, jittered delay (based on the
 * server's `retry:` once it sent one) with `Last-Event-ID` set to the last applied id, so nothing
 * is skipped. A 204 means the server wants no stream: it is not reopened (HTML §9.2.3).
 */
export class PurgeStream {
  readonly #options: StreamOptions;
  #abort: AbortController | undefined;
  #queue: Promise<void> = Promise.resolve();
  #base: number;
  #delay: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #generation = 0;
  #closed = false;

  constructor(options: StreamOptions) {
    this.#options = options;
    this.#base = options.initialDelay;
    this.#delay = options.initialDelay;
  }

  open(): void {
    if (this.#closed) return;
    void this.#connect(++this.#generation);
  }

  /** Drops the connection and opens a new one now, with fresh headers (the user changed). */
  restart(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#delay = this.#base;
    this.open();
  }

  /** True once closed, by `close()` or by a 204: no connection or reconnection is pending then. */
  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  async #connect(generation: number): Promise<void> {
    const abort = new AbortController();
    this.#abort = abort;
    const current = () => !this.#closed && generation === this.#generation;
    try {
      const { url, headers: appHeaders, credentials, lastEventId } = this.#options;
      const headers = new Headers(await appHeaders());
      headers.set('accept', 'text/event-stream');
      const last = lastEventId();
      if (last !== null) headers.set('last-event-id', last);
      if (!current()) return;
      const response = await fetch(url(), { headers, credentials, cache: 'no-store', signal: abort.signal });
      if (response.status === 204) return void this.close();
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !/^text\/event-stream\b/i.test(type) || !response.body) {
        void response.body?.cancel();
        throw clientError('E_STREAM_FAILED', `the purge stream answered ${response.status} ${type}`);
      }
      this.#delay = this.#base;
      const parser = new SseParser({
        event: (event) => this.#enqueue(generation, event),
        retry: (ms) => {
          this.#base = Math.min(ms, this.#options.maxDelay);
        },
      });
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!current()) return void reader.cancel().catch(() => undefined);
        parser.push(value);
      }
      parser.end();
      throw clientError('E_STREAM_FAILED', 'the purge stream ended');
    } catch {
      this.#reconnect(generation);
    }
  }

  #enqueue(generation: number, event: SseEvent): void {
    const decoded = decodeSseEvent(event);
    if (decoded === undefined) return; // an event type the client does not know
    this.#queue = this.#queue.then(async () => {
      // Events of a replaced connection are skipped: the new one replays them from the resume point.
      if (this.#closed || generation !== this.#generation) return;
      try {
        await this.#options.apply(decoded);
      } catch {
        this.#reconnect(generation);
      }
    });
  }

  #reconnect(generation: number): void {
    if (this.#closed || generation !== this.#generation) return;
    this.#generation++; // events still queued from this connection are dropped
    this.#abort?.abort();
    this.#options.onOffline();
    const delay = this.#delay * (0.5 + Math.random() / 2);
    this.#delay = Math.min(this.#delay * 2, this.#options.maxDelay);
    this.#timer = setTimeout(() => this.open(), delay);
  }
}
