import { encodePosition, encodePurgeEvent, encodeSseRetry, SSE_HEARTBEAT } from '@strata/policy/protocol';
import { isValidId, ZERO_ID } from './bus/ids.js';
import type { Bus, PurgeEvent, Subscription } from './bus/types.js';
import { jsonError } from './http.js';

export interface EventStreamOptions {
  bus: Bus;
  partition: (request: Request) => string | undefined | Promise<string | undefined>;
  /** Tags and keys of private routes: left out of purges broadcast without a partition. */
  isPrivate: { tag(tag: string): boolean; key(key: string): boolean };
  /** Milliseconds between heartbeat comments. Default 15,000 (HTML §9.2.7 proxies drop idle streams). */
  heartbeatMs?: number;
  /** The reconnection delay suggested to clients, in ms. Default 3,000. */
  retryMs?: number;
  /**
   * Bytes a stream may hold queued for a client that does not read them. Past it, the stream
   * stops listening to the purge log until the client has read half of them, then resumes from
   * the last event it handled: the log replays what came meanwhile, or sends `event: reset` when
   * it no longer reaches back. Nothing is lost and nothing more is held. Default 65,536.
   */
  maxBufferedBytes?: number | undefined;
  /** Open streams allowed; one more is answered 503 with Retry-After. Default 10,000. */
  maxConnections?: number | undefined;
  /** Counts open streams, for stats and metrics. */
  connections: SseConnections;
}

/** The purge streams of one instance: how many, what they hold, and who was turned away. */
export class SseConnections {
  open = 0;
  opened = 0;
  /** Times a stream stopped listening to the log because its client was `maxBufferedBytes` behind. */
  pauses = 0;
  /** Connections answered 503 because `maxConnections` streams were open. */
  refused = 0;
  readonly #queues = new Set<() => number>();

  /** Bytes queued for clients and not read yet, over every open stream. */
  get queuedBytes(): number {
    let total = 0;
    for (const queued of this.#queues) total += queued();
    return total;
  }

  track(queued: () => number): () => void {
    this.#queues.add(queued);
    return () => this.#queues.delete(queued);
  }

  snapshot() {
    const { open, opened, pauses, refused, queuedBytes } = this;
    return { open, opened, pauses, refused, queuedBytes };
  }
}

const encoder = new TextEncoder();

// One event goes to every open stream: encode it once, not once per connection.
const frames = new WeakMap<PurgeEvent, Uint8Array>();
function frameOf(event: PurgeEvent): Uint8Array {
  let bytes = frames.get(event);
  if (!bytes) {
    bytes = encoder.encode(encodePurgeEvent(event));
    frames.set(event, bytes);
  }
  return bytes;
}

// An event naming no partition goes to everyone: names of private routes are left out of it, since
// they can carry user ids and no connection can be shown to own them.
const broadcastFrames = new WeakMap<PurgeEvent, Uint8Array>();
function broadcastFrame(event: PurgeEvent, isPrivate: EventStreamOptions['isPrivate']): Uint8Array {
  let bytes = broadcastFrames.get(event);
  if (bytes === undefined) {
    const tags = event.tags.filter((tag) => !isPrivate.tag(tag));
    const keys = event.keys.filter((key) => !isPrivate.key(key));
    bytes =
      tags.length === event.tags.length && keys.length === event.keys.length
        ? frameOf(event)
        : encoder.encode(encodePurgeEvent({ ...event, tags, keys }));
    broadcastFrames.set(event, bytes);
  }
  return bytes;
}

/**
 * The purge stream (HTML §9.2): one SSE event per purge event of the log (`encodePurgeEvent`),
 * `id:` its id and `data:` the event — never a response body. A client resumes from
 * `Last-Event-ID`, or from `?since=` (an EventSource forgets its last id on reload, so pages pass
 * it in the URL); a resume point the log can no longer honour gets a reset (`event: reset`). Purges of private content reach only the browsers of
 * their partition. The stream cleans up after itself when the client goes. A client that stops
 * reading holds at most `maxBufferedBytes` (the log keeps the rest), and streams beyond
 * `maxConnections` are refused with a 503.
 */
export async function eventStream(request: Request, options: EventStreamOptions): Promise<Response> {
  const url = new URL(request.url);
  const resumeFrom = request.headers.get('last-event-id') ?? url.searchParams.get('since') ?? undefined;
  // An empty Last-Event-ID means "no id" (HTML §9.2.4); anything else must be a valid purge id.
  const from = resumeFrom === '' ? undefined : resumeFrom;
  if (from !== undefined && !isValidId(from)) {
    return jsonError('E_BAD_RESUME_ID', `resume id ${JSON.stringify(String(from).slice(0, 64))} is not a purge id`);
  }
  const partition = await options.partition(request);
  const { connections } = options;
  if (connections.open >= (options.maxConnections ?? 10_000)) {
    connections.refused++;
    const retrySeconds = Math.max(1, Math.ceil((options.retryMs ?? 3_000) / 1000));
    return jsonError('E_TOO_MANY_STREAMS', 'too many purge streams are open: retry later', {
      'retry-after': String(retrySeconds), // RFC 9110 §10.2.3
    });
  }
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxBuffered = options.maxBufferedBytes ?? 65_536;

  // Backpressure: the log is the buffer. At most `maxBuffered` bytes wait for a client; when the
  // next purge does not fit, the stream stops listening to the log and remembers the last event
  // it handled. Once the client has read half of its queue (`pull`), it listens again from that
  // id: the log replays what came meanwhile, or resets the client if it has moved past.
  let cleanup: () => void = () => {};
  let resume: () => void = () => {};
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let closed = false;
        // Bytes enqueued and not yet read by the client (the adapter reads only as the socket drains).
        const queued = () => Math.max(0, maxBuffered - (controller.desiredSize ?? maxBuffered));
        const untrack = connections.track(queued);
        // One frame always fits an empty queue, however large.
        const fits = (chunk: Uint8Array) => queued() === 0 || queued() + chunk.byteLength <= maxBuffered;
        const send = (chunk: Uint8Array) => {
          if (closed) return;
          try {
            controller.enqueue(chunk);
          } catch {
            cleanup();
          }
        };
        send(encoder.encode(encodeSseRetry(options.retryMs ?? 3_000)));
        // A client without a resume point learns where it joined the log (`event: position`), and
        // is replayed everything after that id: a tab closed before any purge reached it still
        // catches up from there when it comes back, instead of from whenever it reconnects.
        // (An empty log, or one this instance has not read yet, is joined at its start.)
        const head = from === undefined ? (options.bus.stats().lastId ?? ZERO_ID) : undefined;
        if (head !== undefined) send(encoder.encode(encodePosition(head)));
        /** The last event handled (sent, or not for this client): where listening resumes. */
        let handled = from ?? head;
        let subscription: Subscription | undefined;
        const handle = (id: string | undefined, chunk: Uint8Array | undefined) => {
          if (closed || !subscription) return;
          if (chunk && !fits(chunk)) {
            subscription.close(); // this event and the later ones wait in the log
            subscription = undefined;
            connections.pauses++;
            return;
          }
          if (chunk) send(chunk);
          if (id !== undefined) handled = id;
        };
        const onEvent = (event: PurgeEvent) => {
          // Every browser drops everything tagged on a reset, whoever's partition it came from.
          if (event.all) handle(event.id, frameOf(event));
          // A private purge names its partition; other users' browsers must not learn its tags.
          else if (event.partition !== undefined && event.partition !== partition) handle(event.id, undefined);
          // An event naming only what servers keep (entries removed by key) is nothing to a browser.
          else if (event.tags.length === 0 && event.keys.length === 0) handle(event.id, undefined);
          else
            handle(event.id, event.partition === undefined ? broadcastFrame(event, options.isPrivate) : frameOf(event));
        };
        const listen = () => {
          subscription = options.bus.subscribe(handled, onEvent);
        };
        listen();
        resume = () => {
          if (!closed && !subscription && queued() <= maxBuffered / 2) listen();
        };
        const beat = encoder.encode(SSE_HEARTBEAT);
        const heartbeat = setInterval(() => {
          if (fits(beat)) send(beat); // a client with a full queue needs no keep-alive
        }, heartbeatMs);
        heartbeat.unref?.();
        connections.open++;
        connections.opened++;
        const onAbort = () => {
          cleanup();
          try {
            controller.close();
          } catch {
            // already closed or errored
          }
        };
        cleanup = () => {
          if (closed) return;
          closed = true;
          subscription?.close();
          clearInterval(heartbeat);
          request.signal.removeEventListener('abort', onAbort);
          untrack();
          connections.open--;
        };
        request.signal.addEventListener('abort', onAbort, { once: true });
      },
      pull() {
        resume();
      },
      cancel() {
        cleanup();
      },
    },
    { highWaterMark: maxBuffered, size: (chunk) => chunk.byteLength },
  );

  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // proxies that buffer responses would hold events back
    },
  });
}
