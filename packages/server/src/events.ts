import { isValidId, ZERO_ID } from './bus/ids.js';
import type { Bus, BusMessage } from './bus/types.js';
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
  /** Counts open streams, for stats and metrics. */
  connections: { open: number; opened: number };
}

const encoder = new TextEncoder();

// One purge goes to every open stream: encode its frame once, not once per connection.
const purgeFrames = new WeakMap<object, Uint8Array>();
function purgeFrame(event: { id: string; tags: string[]; keys: string[] }): Uint8Array {
  let bytes = purgeFrames.get(event);
  if (!bytes) {
    bytes = frame({ id: event.id, data: { tags: event.tags, keys: event.keys } });
    purgeFrames.set(event, bytes);
  }
  return bytes;
}

// A purge naming no partition goes to everyone: names of private routes are left out of it, since
// they can carry user ids and no connection can be shown to own them.
const broadcastFrames = new WeakMap<object, Uint8Array>();
function broadcastFrame(
  event: { id: string; tags: string[]; keys: string[] },
  isPrivate: EventStreamOptions['isPrivate'],
): Uint8Array {
  let bytes = broadcastFrames.get(event);
  if (bytes === undefined) {
    const tags = event.tags.filter((tag) => !isPrivate.tag(tag));
    const keys = event.keys.filter((key) => !isPrivate.key(key));
    bytes =
      tags.length === event.tags.length && keys.length === event.keys.length
        ? purgeFrame(event)
        : frame({ id: event.id, data: { tags, keys } });
    broadcastFrames.set(event, bytes);
  }
  return bytes;
}

/** One SSE event. Field values never hold CR or LF here (ids are `ms-seq`, data is one JSON line). */
function frame(fields: { event?: string; id?: string; data: unknown }): Uint8Array {
  let text = '';
  if (fields.event) text += `event: ${fields.event}\n`;
  if (fields.id) text += `id: ${fields.id}\n`;
  text += `data: ${JSON.stringify(fields.data)}\n\n`;
  return encoder.encode(text);
}

/**
 * The purge stream (HTML §9.2): one event per purge, `id:` the purge id and `data:` its tags and
 * keys — never a response body. A client resumes from `Last-Event-ID`, or from `?since=` (an
 * EventSource forgets its last id on reload, so pages pass it in the URL); a resume point the log
 * can no longer honour gets `event: reset`. Purges of private content reach only the browsers of
 * their partition. The stream cleans up after itself when the client goes.
 */
export async function eventStream(request: Request, options: EventStreamOptions): Promise<Response> {
  const url = new URL(request.url);
  const resume = request.headers.get('last-event-id') ?? url.searchParams.get('since') ?? undefined;
  // An empty Last-Event-ID means "no id" (HTML §9.2.4); anything else must be a valid purge id.
  const from = resume === '' ? undefined : resume;
  if (from !== undefined && !isValidId(from)) {
    return jsonError(
      400,
      'E_BAD_RESUME_ID',
      `resume id ${JSON.stringify(String(from).slice(0, 64))} is not a purge id`,
    );
  }
  const partition = await options.partition(request);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  let cleanup: () => void = () => {};

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const send = (chunk: Uint8Array) => {
        if (closed) return;
        try {
          controller.enqueue(chunk);
        } catch {
          cleanup();
        }
      };
      send(encoder.encode(`retry: ${options.retryMs ?? 3_000}\n\n`));
      const onMessage = (message: BusMessage) => {
        if (message.type === 'reset') {
          send(frame({ event: 'reset', ...(message.id ? { id: message.id } : {}), data: { reason: message.reason } }));
          return;
        }
        const { event } = message;
        if (event.all) {
          send(frame({ event: 'reset', id: event.id, data: { reason: 'clear-all' } }));
          return;
        }
        // A private purge names its partition; other users' browsers must not learn its tags.
        if (event.partition !== undefined && event.partition !== partition) return;
        send(event.partition === undefined ? broadcastFrame(event, options.isPrivate) : purgeFrame(event));
      };
      // A client without a resume point learns where it joined the log (`event: position`), and
      // is replayed everything after that id: a tab closed before any purge reached it still
      // catches up from there when it comes back, instead of from whenever it reconnects.
      // (An empty log, or one this instance has not read yet, is joined at its start.)
      const head = from === undefined ? (options.bus.stats().lastId ?? ZERO_ID) : undefined;
      if (head !== undefined) send(frame({ event: 'position', id: head, data: {} }));
      const subscription = options.bus.subscribe(from ?? head, onMessage);
      const heartbeat = setInterval(() => send(encoder.encode(': heartbeat\n\n')), heartbeatMs);
      heartbeat.unref?.();
      options.connections.open++;
      options.connections.opened++;
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
        subscription.close();
        clearInterval(heartbeat);
        request.signal.removeEventListener('abort', onAbort);
        options.connections.open--;
      };
      request.signal.addEventListener('abort', onAbort, { once: true });
    },
    cancel() {
      cleanup();
    },
  });

  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // proxies that buffer responses would hold events back
    },
  });
}
