import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { firstEvent } from '../first-event.js';
import { heldBody } from '../held-body.js';

// Conversion helpers shared by the adapters. Internal: not a subpath export.

/** Fetch "null body statuses": a Response with one of these cannot carry a body. */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** Node's header record (values string, number or string[]) as Web Headers; arrays become repeated fields. */
export function headersFromNode(fields: Record<string, string | number | readonly string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name.startsWith(':')) continue; // HTTP/2 pseudo-headers are not fields
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, String(value));
  }
  return headers;
}

/**
 * Makes the framework's request match the one Strata asks the origin for: Strata sends a plain
 * GET without conditional fields when it means to store the answer (a 304 cannot be stored, a
 * HEAD has no body to keep). Fields are removed or added, never rewritten, so Node's own joining
 * of repeated fields is kept. Returns a function that puts the method back.
 */
export function syncRequest(req: IncomingMessage, origin: Request): () => void {
  const method = req.method;
  if (origin.method !== method) req.method = origin.method;
  for (const name of Object.keys(req.headers)) if (!origin.headers.has(name)) delete req.headers[name];
  origin.headers.forEach((value, name) => {
    if (req.headers[name] === undefined) req.headers[name] = value;
  });
  return () => {
    req.method = method;
  };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A Web stream over a Node readable that reads nothing until someone pulls: building a Request
 * or Response around it must leave the body to whoever really reads it (a framework's parser).
 * Chunks come from the readable's own iterator: `Readable.toWeb` would build a second Web stream
 * per request, and on Node 20 each costs more than the small body it usually carries.
 */
export function lazyWebStream(readable: Readable): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        chunks ??= readable[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
        const { done, value } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(typeof value === 'string' ? Buffer.from(value) : value);
      },
      async cancel() {
        // Ending the iteration early destroys the readable, as destroying it before any read does.
        if (chunks) await chunks.return?.();
        else readable.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A short text answer no cache may keep: what the adapters send when the app itself failed. */
export function plainResponse(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/** The three calls that put a response on the wire. Usually the ServerResponse itself. */
export interface RawWriter {
  writeHead(statusCode: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
}

const IMMEDIATE = Symbol('immediate');
const nextMacrotask = () => new Promise<typeof IMMEDIATE>((resolve) => setImmediate(resolve, IMMEDIATE));

/**
 * Writes a Web Response to a Node ServerResponse: status, headers (each Set-Cookie its own
 * field line), and the body streamed with backpressure. HEAD and null-body statuses send no body.
 * Fields already set on `res` stay unless the Response sets the same name. When the client leaves,
 * the body is cancelled; when the body fails midway, the connection is destroyed so the client
 * sees a truncated response rather than a complete-looking one.
 */
export async function pipeResponse(res: ServerResponse, response: Response, io: RawWriter = res): Promise<void> {
  const body = response.body;
  if (res.headersSent || res.destroyed) {
    await body?.cancel().catch(() => {});
    return;
  }
  const headers: OutgoingHttpHeaders = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  if (response.statusText) res.statusMessage = response.statusText;

  // A body Strata holds in memory goes out in one write with its length, no stream to read.
  const held = heldBody(response);
  if (held !== undefined) {
    headers['content-length'] ??= held.byteLength;
    io.writeHead(response.status, headers);
    io.end(res.req?.method === 'HEAD' ? undefined : held);
    return;
  }
  if (!body || res.req?.method === 'HEAD' || NULL_BODY_STATUSES.has(response.status)) {
    if (!body && res.req?.method !== 'HEAD' && !NULL_BODY_STATUSES.has(response.status)) {
      headers['content-length'] ??= 0; // an empty body, not an unterminated chunked one
    }
    io.writeHead(response.status, headers);
    await body?.cancel().catch(() => {});
    io.end();
    return;
  }
  const reader = body.getReader();
  const onClose = () => {
    reader.cancel().catch(() => {});
  };
  res.once('close', onClose);
  try {
    // A body already in memory (a cache hit, a buffered answer) goes out in one write with its
    // length: one syscall and no chunked framing. A body still arriving is not held back — only
    // reads that complete before the next macrotask are taken together.
    const first = await reader.read();
    const secondRead = first.done ? undefined : reader.read();
    const second = secondRead && (await Promise.race([secondRead, nextMacrotask()]));
    if (first.done || (second !== IMMEDIATE && second?.done)) {
      if (headers['content-length'] === undefined) headers['content-length'] = first.value?.byteLength ?? 0;
      io.writeHead(response.status, headers);
      io.end(first.value);
      return;
    }
    io.writeHead(response.status, headers);
    let pending = secondRead as Promise<Awaited<ReturnType<typeof reader.read>>>;
    if (!io.write(first.value)) await firstEvent(res, ['drain', 'close']);
    for (;;) {
      const { done, value } = await pending;
      if (done) break;
      if (res.destroyed) return;
      if (!io.write(value)) await firstEvent(res, ['drain', 'close']);
      pending = reader.read();
    }
    if (!res.destroyed) io.end();
  } catch (error) {
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    res.off('close', onClose);
  }
}

/** Answers with a plain 500 when nothing was sent yet; otherwise the only honest signal left is to cut the connection. */
export async function failResponse(res: ServerResponse, error: unknown, io: RawWriter = res): Promise<void> {
  if (res.headersSent || res.destroyed) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  await pipeResponse(res, plainResponse(500, 'Internal Server Error'), io).catch(() => res.destroy());
}
