import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Next } from '../cache/response-cache.js';
import { BadRequestError } from '../errors.js';
import { writesHeldBodies } from '../held-body.js';
import type { Strata } from '../strata.js';
import { rawHeader, serveFresh, writeAnswer } from './fast.js';
import { failResponse, lazyWebStream, pipeResponse, plainResponse } from './shared.js';

export interface ToRequestOptions {
  /**
   * Origin of the request URL (`https://shop.example`), used instead of the Host header. Set it
   * when the app answers to one name: the Host header is chosen by the client.
   */
  origin?: string;
  /**
   * Take scheme and host from `X-Forwarded-Proto` / `X-Forwarded-Host`. Only behind a proxy
   * that overwrites them; a direct client could otherwise pick them. Default false.
   */
  trustProxy?: boolean;
  /** The request target to use instead of `req.url` (Express's `originalUrl` under a mount path). */
  url?: string;
  /** The response being written for `req`: the Request's signal aborts when it closes unfinished. */
  response?: ServerResponse;
}

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

const CLIENT_SIGNAL = Symbol('clientSignal');

/**
 * A Request whose `signal` is the adapter's own, aborted when the client goes away. Handed to
 * `new Request` as `init.signal`, a signal is "followed" (a second controller, a WeakRef, a
 * finalizer entry and a listener per request), which on Node 20 costs more than the rest of the
 * Request: a write answered through the node adapter spent about a fifth of its CPU there.
 * `request.signal`, `request.clone()` and `new Request(url, request)` see this signal;
 * `new Request(request)` and `fetch(request)` copy the Request's internal one, which never aborts:
 * pass `{ signal: request.signal }` there to carry the client's.
 */
class AdapterRequest extends Request {
  readonly [CLIENT_SIGNAL]: AbortSignal;

  constructor(url: URL, init: RequestInit, signal: AbortSignal) {
    super(url, init);
    this[CLIENT_SIGNAL] = signal;
  }
}
// Node's types declare `signal` and `clone` as properties of Request, so they are replaced here.
const nativeClone = Request.prototype.clone;
Object.defineProperties(AdapterRequest.prototype, {
  signal: {
    get(this: AdapterRequest) {
      return this[CLIENT_SIGNAL];
    },
    configurable: true,
    enumerable: true,
  },
  // A copy that aborts with the client too: Node's own clone follows the internal signal.
  clone: {
    value(this: AdapterRequest): Request {
      return new Request(nativeClone.call(this), { signal: this[CLIENT_SIGNAL] });
    },
    configurable: true,
    writable: true,
  },
});

function firstValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.split(',')[0]?.trim() || undefined;
}

/**
 * The origin for each scheme and Host line seen (null: not a valid host), so a request without
 * forwarded fields costs one scan of its raw lines and a lookup. Bounded: cleared whole when full,
 * since a client picks its Host line.
 */
const hostOrigins = { http: new Map<string, string | null>(), https: new Map<string, string | null>() };
const MAX_HOST_ORIGINS = 1_000;

function originOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) return forwardedOrigin(req, true);
  const line = rawHeader(req, 'host');
  // No Host line, or one whose first value is empty: `:authority` or the default decide, uncached.
  if (line === null || line.trim() === '' || line.trimStart().startsWith(',')) return forwardedOrigin(req, false);
  const known = (req.socket as Partial<TLSSocket>).encrypted ? hostOrigins.https : hostOrigins.http;
  let origin = known.get(line);
  if (origin === undefined) {
    try {
      origin = forwardedOrigin(req, false);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      origin = null;
    }
    if (known.size >= MAX_HOST_ORIGINS) known.clear();
    known.set(line, origin);
  }
  // An invalid host is worked out again, for its error.
  return origin ?? forwardedOrigin(req, false);
}

function forwardedOrigin(req: IncomingMessage, trustProxy: boolean): string {
  // Read from the raw lines: Node's header object would be built for these three fields alone.
  const header = (name: string) => rawHeader(req, name) ?? undefined;
  const forwardedProto = trustProxy ? firstValue(header('x-forwarded-proto'))?.toLowerCase() : undefined;
  const scheme =
    forwardedProto === 'http' || forwardedProto === 'https'
      ? forwardedProto
      : (req.socket as Partial<TLSSocket>).encrypted
        ? 'https'
        : 'http';
  const host =
    (trustProxy ? firstValue(header('x-forwarded-host')) : undefined) ??
    firstValue(header('host')) ??
    firstValue(header(':authority')) ??
    'localhost';
  if (!HOST.test(host)) throw new BadRequestError('E_BAD_REQUEST', `invalid host ${JSON.stringify(host)}`);
  return `${scheme}://${host}`;
}

/**
 * An IncomingMessage as a Web Request: absolute URL, every header field as sent, the body as a
 * stream for methods that have one (read only when someone reads it), and a signal that aborts
 * when the client goes away. Throws a StrataError (E_BAD_REQUEST, status 400) when no valid URL can be built.
 */
export function toRequest(req: IncomingMessage, options: ToRequestOptions = {}): Request {
  const target = options.url ?? req.url ?? '/';
  // Origin-form only: an absolute or scheme-relative target must not choose the host of the cache key.
  if (!target.startsWith('/'))
    throw new BadRequestError('E_BAD_REQUEST', `unsupported request target ${JSON.stringify(target)}`);
  let url: URL;
  try {
    const origin = options.origin ? new URL(options.origin).origin : originOf(req, options.trustProxy ?? false);
    url = new URL(`${origin}${target}`);
  } catch (cause) {
    if (cause instanceof BadRequestError) throw cause;
    throw new BadRequestError('E_BAD_REQUEST', `cannot build a URL for ${JSON.stringify(target)}`, { cause });
  }

  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!name.startsWith(':')) headers.append(name, raw[i + 1] as string);
  }

  const controller = new AbortController();
  const abort = () => controller.abort(new DOMException('The client closed the connection', 'AbortError'));
  const { response } = options;
  response?.once('close', () => {
    if (!response.writableFinished) abort();
  });
  req.once('close', () => {
    if (req.errored) abort();
  });

  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  try {
    return new AdapterRequest(
      url,
      { method, headers, ...(hasBody ? { body: lazyWebStream(req), duplex: 'half' as const } : {}) },
      controller.signal,
    );
  } catch (cause) {
    // e.g. CONNECT/TRACE, which the Fetch standard forbids in a Request
    throw new BadRequestError('E_BAD_REQUEST', `cannot represent ${method} ${target} as a Request`, { cause });
  }
}

/**
 * Writes a Web Response to `res`: status, headers (several Set-Cookie lines stay several),
 * the body streamed with backpressure; no body for HEAD, 204 and 304.
 */
export function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  return pipeResponse(res, response);
}

export interface NodeListenerOptions extends Omit<ToRequestOptions, 'response' | 'url'> {
  /** Told about handler errors (which become a 500). Default: the Strata instance's `logger`. */
  onError?: (error: unknown) => void;
}

/**
 * A `http.createServer` listener: every request goes through `strata.handle` with `handler`
 * as the origin. A handler that throws gives a plain 500 — never an unhandled rejection.
 */
export function nodeListener(
  strata: Strata,
  handler: Next,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError =
    options.onError ?? ((error: unknown) => strata.logger.warn('Strata: the handler failed; answered 500', { error }));
  const full = (req: IncomingMessage, res: ServerResponse) => {
    let request: Request;
    try {
      request = writesHeldBodies(toRequest(req, { ...options, response: res }));
    } catch {
      // the client's fault (bad Host or target), not the app's: answered, not reported
      void pipeResponse(res, plainResponse(400, 'Bad Request')).catch(() => res.destroy());
      return;
    }
    void strata
      .handle(request, handler)
      .catch((error: unknown) => {
        onError(error);
        return plainResponse(500, 'Internal Server Error');
      })
      .then((response) => pipeResponse(res, response))
      .catch((error: unknown) => {
        onError(error);
        return failResponse(res, error);
      });
  };
  // Fresh hits (public and private routes) are written straight from the stored entry: no
  // Request, Response or stream objects on the path that carries most of the traffic.
  const fixedOrigin = options.origin;
  return (req, res) => {
    let origin: string;
    try {
      origin = fixedOrigin ?? originOf(req, options.trustProxy ?? false);
    } catch {
      return full(req, res);
    }
    serveFresh(strata, req, origin, req.url ?? '/', {
      write: (answer) => writeAnswer(res, answer),
      full: () => full(req, res),
      fail: (error) => void failResponse(res, error),
    });
  };
}
