import {
  Agent,
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { pipeline, Readable } from 'node:stream';
import { StrataError } from '@strata/policy';
import { writeResponse } from '@strata/server/node';
import { endToEnd, forwardResponseFields } from './headers.js';

/** Fetch's "null body statuses": a Response with one of these cannot carry a body. */
const NULL_BODY = new Set([204, 205, 304]);

export interface ForwarderOptions {
  /** The origin, `http(s)://host[:port][/base]`: request paths are appended to its path. */
  upstream: URL;
  /** Longest silence from the upstream, in ms (waiting for its answer, or between body bytes). */
  timeoutMs: number;
  /** The `Via` pseudonym (RFC 9110 §7.6.3). */
  pseudonym: string;
}

export interface Forwarder {
  /** `identity`: ask for the identity coding, whatever the client accepts. */
  forward(request: Request, options?: { identity?: boolean }): Promise<Response>;
  /**
   * Sends a GET or HEAD straight through, Node stream to Node stream: for requests `strata.handle`
   * would hand to the origin untouched (no route matches), without building a Request or Response.
   */
  pipe(req: IncomingMessage, res: ServerResponse): void;
  /** Closes the kept-alive connections to the upstream. */
  close(): void;
}

/**
 * The upstream's body as a Web stream, with backpressure: the socket pauses while the reader is
 * behind. Lighter than `Readable.toWeb`, which costs a miss a third of its time on small bodies.
 */
function bodyStream(incoming: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      incoming.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 1) <= 0) incoming.pause();
      });
      incoming.once('end', () => controller.close());
      // A stall or reset midway: the client's response is then cut, not completed.
      incoming.once('error', (error) => controller.error(error));
    },
    pull() {
      incoming.resume();
    },
    cancel() {
      incoming.destroy();
    },
  });
}

/** RFC 9209 error types for the ways an upstream fails, by Node's error code. */
const PROXY_ERROR_TYPES: Record<string, string> = {
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_timeout',
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_terminated',
  EPIPE: 'connection_terminated',
  EHOSTUNREACH: 'destination_ip_unroutable',
  ENETUNREACH: 'destination_ip_unroutable',
};

/**
 * The answer for an upstream that gave none: 502 `E_UPSTREAM_UNREACHABLE` (or 504
 * `E_UPSTREAM_TIMEOUT`) naming the upstream's error, with `Proxy-Status` (RFC 9209). Never
 * stored; within a route's `staleIfError` the server cache answers with its stale copy instead.
 */
export function upstreamFailure(error: unknown, upstream: URL, timedOut: boolean, pseudonym: string): Response {
  const cause = (error as { code?: string } | undefined)?.code;
  const code = timedOut ? 'E_UPSTREAM_TIMEOUT' : 'E_UPSTREAM_UNREACHABLE';
  const reason = timedOut ? 'sent nothing in time' : (error as Error | undefined)?.message || String(error);
  const failure = new StrataError(code, `upstream ${upstream.origin}: ${reason}`, { cause: error });
  const type = timedOut ? 'http_response_timeout' : ((cause && PROXY_ERROR_TYPES[cause]) ?? 'proxy_internal_error');
  return new Response(JSON.stringify({ error: { code: failure.code, message: failure.message } }), {
    status: timedOut ? 504 : 502,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'proxy-status': `${pseudonym}; error=${type}${cause ? `; details="${cause}"` : ''}`,
    },
  });
}

/**
 * Sends requests on to one upstream over HTTP/1.1 with kept-alive connections (`node:http`, not
 * `fetch`: the body must pass through as the origin encoded it, never decompressed on the way).
 * Bodies stream both ways. Errors before the answer's head become `upstreamFailure` answers; an
 * upstream that fails midway through a body cuts the client's response (it cannot be undone).
 */
export function forwarder(options: ForwarderOptions): Forwarder {
  const { upstream, timeoutMs, pseudonym } = options;
  const secure = upstream.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new Agent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  const base = upstream.pathname.replace(/\/$/, '');

  /** One request to the upstream; `timedOut` is called before it is destroyed for silence. */
  const open = (method: string, path: string, headers: string[][], timedOut: () => void, signal?: AbortSignal) => {
    const outgoing = send({
      protocol: upstream.protocol,
      hostname: upstream.hostname.replace(/^\[|\]$/g, ''),
      port: upstream.port || (secure ? 443 : 80),
      method,
      path: `${base}${path}`,
      headers: headers.flat() as unknown as Record<string, string>,
      agent,
      timeout: timeoutMs,
      ...(signal ? { signal } : {}),
    });
    outgoing.on('timeout', () => {
      timedOut();
      outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    return outgoing;
  };

  const forward = (request: Request, { identity = false } = {}): Promise<Response> =>
    new Promise<Response>((resolve) => {
      const url = new URL(request.url);
      const raw: string[] = [];
      request.headers.forEach((value, name) => {
        // Headers joins repeated fields; Set-Cookie is a response field, so requests lose nothing.
        raw.push(name, value);
      });
      // The upstream is addressed by its own name; the client's Host travels in Forwarded.
      const headers = [['Host', upstream.host], ...endToEnd(raw)];
      if (identity) {
        const coding = headers.findIndex(([name]) => name === 'accept-encoding');
        if (coding !== -1) headers.splice(coding, 1);
        headers.push(['Accept-Encoding', 'identity']);
      }
      let timedOut = false;
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        resolve(upstreamFailure(error, upstream, timedOut, pseudonym));
      };
      let outgoing: ClientRequest;
      try {
        const markTimedOut = () => {
          timedOut = true;
        };
        outgoing = open(request.method, `${url.pathname}${url.search}`, headers, markTimedOut, request.signal);
      } catch (error) {
        fail(error);
        return;
      }
      outgoing.on('error', fail);
      outgoing.on('response', (incoming: IncomingMessage) => {
        settled = true;
        const status = incoming.statusCode ?? 502;
        const fields = forwardResponseFields(incoming, pseudonym);
        const hasBody = request.method !== 'HEAD' && !NULL_BODY.has(status);
        if (!hasBody) incoming.resume();
        try {
          resolve(
            new Response(hasBody ? bodyStream(incoming) : null, {
              status,
              statusText: incoming.statusMessage ?? '',
              headers: fields,
            }),
          );
        } catch (error) {
          // a status a Response cannot carry (1xx, above 599): not an answer this proxy can relay
          incoming.destroy();
          settled = false;
          fail(error);
        }
      });
      if (!request.body) outgoing.end();
      else
        pipeline(Readable.fromWeb(request.body as never), outgoing, (error) => {
          if (error) outgoing.destroy(error);
        });
    });

  const pipe = (req: IncomingMessage, res: ServerResponse): void => {
    let timedOut = false;
    const fail = (error: unknown) => {
      if (res.headersSent) res.destroy();
      else void writeResponse(res, upstreamFailure(error, upstream, timedOut, pseudonym)).catch(() => res.destroy());
    };
    let outgoing: ClientRequest;
    try {
      const headers = [['Host', upstream.host], ...endToEnd(req.rawHeaders)];
      outgoing = open(req.method ?? 'GET', req.url ?? '/', headers, () => {
        timedOut = true;
      });
    } catch (error) {
      fail(error);
      return;
    }
    outgoing.on('error', fail);
    res.once('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    outgoing.on('response', (incoming: IncomingMessage) => {
      const status = incoming.statusCode ?? 502;
      if (status < 200 || status > 599) {
        incoming.destroy();
        fail(new Error(`the upstream answered with status ${status}`));
        return;
      }
      const fields = endToEnd(incoming.rawHeaders);
      fields.push(['Via', `${incoming.httpVersion} ${pseudonym}`]);
      res.writeHead(status, incoming.statusMessage ?? '', fields.flat());
      // A failure midway cuts the client's response: it must not look complete.
      pipeline(incoming, res, () => {});
    });
    outgoing.end();
  };

  return { forward, pipe, close: () => agent.destroy() };
}
