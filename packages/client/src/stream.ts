/** One purge as it arrives on the stream. */
export interface PurgeFrame {
  /** The SSE event id ('' when the server sent none). */
  id: string;
  /** `position`: where a stream opened without a resume point joined the log (nothing to apply). */
  kind: 'purge' | 'reset' | 'position';
  tags: string[];
  keys: string[];
}

export interface StreamOptions {
  /** The URL to connect to, built afresh for each connection (it carries the resume point). */
  url: () => string;
  /** Applies one frame (forwards it to the worker and records it). Throwing makes the stream reconnect. */
  apply: (frame: PurgeFrame) => Promise<void>;
  /** The stream is down: purges made meanwhile are replayed on reconnect. */
  onOffline: () => void;
  initialDelay: number;
  maxDelay: number;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * The purge stream, held by the leader tab. Frames are applied one at a time, in order. On an
 * error — the connection dropped, a non-200 answer (which would end an EventSource for good,
 * HTML §9.2.3), a purge the worker could not apply — the stream closes and reconnects after a
 * growing, jittered delay from the last applied id, so nothing is skipped and nothing waits on a
 * dead connection. (A server `retry:` hint is not readable through the EventSource API; the
 * backoff replaces it.)
 */
export class PurgeStream {
  readonly #options: StreamOptions;
  #source: EventSource | undefined;
  #queue: Promise<void> = Promise.resolve();
  #delay: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #generation = 0;
  #closed = false;

  constructor(options: StreamOptions) {
    this.#options = options;
    this.#delay = options.initialDelay;
  }

  open(): void {
    if (this.#closed) return;
    const generation = ++this.#generation;
    const source = new EventSource(this.#options.url());
    this.#source = source;
    source.onopen = () => {
      this.#delay = this.#options.initialDelay;
    };
    source.onmessage = (event) => this.#enqueue(generation, event, 'purge');
    source.addEventListener('reset', (event) => this.#enqueue(generation, event as MessageEvent, 'reset'));
    source.addEventListener('position', (event) => this.#enqueue(generation, event as MessageEvent, 'position'));
    source.onerror = () => this.#reconnect(generation);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#source?.close();
  }

  #enqueue(generation: number, event: MessageEvent, kind: PurgeFrame['kind']): void {
    const id = event.lastEventId;
    this.#queue = this.#queue.then(async () => {
      // Frames of a replaced connection are skipped: the new one replays them from the resume point.
      if (this.#closed || generation !== this.#generation) return;
      let data: Record<string, unknown> = {};
      try {
        data = JSON.parse(event.data || '{}') as Record<string, unknown>;
      } catch {
        // not JSON: a purge of nothing; the worker answers it and the id is recorded
      }
      try {
        await this.#options.apply({ id, kind, tags: strings(data.tags), keys: strings(data.keys) });
      } catch {
        this.#reconnect(generation);
      }
    });
  }

  #reconnect(generation: number): void {
    if (this.#closed || generation !== this.#generation) return;
    this.#generation++; // frames still queued from this connection are dropped
    this.#source?.close();
    this.#options.onOffline();
    const delay = this.#delay * (0.5 + Math.random() / 2);
    this.#delay = Math.min(this.#delay * 2, this.#options.maxDelay);
    this.#timer = setTimeout(() => this.open(), delay);
  }
}
