import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalPath, type Manifest, matchRoute, StrataError, storesAt } from '@strata/policy';
import { createStrata, type Store, type Strata, type StrataOptions } from '@strata/server';
import { nodeListener, toRequest, writeResponse } from '@strata/server/node';
import { upstreamUrl } from './config.js';
import { forwarder } from './forward.js';
import { forwardRequestFields } from './headers.js';

export interface ProxyOptions {
  /** The validated manifest (`defineManifest`, or `parseManifest` / `loadManifest` of a file). */
  manifest: Manifest;
  /** The origin every other request goes to: `http(s)://host[:port][/base]`. */
  upstream: string;
  /** Longest silence from the upstream, in ms, before a 504 `E_UPSTREAM_TIMEOUT`. Default 30,000. */
  upstreamTimeoutMs?: number;
  /** The server cache's store. Default `memoryStore()`. */
  store?: Store;
  /** The purge log. Default `memoryBus()`. */
  bus?: StrataOptions['bus'];
  /** Bearer token of the admin API (at `/api/v1/cache`) and `/metrics`; without one, neither is served. */
  adminToken?: string;
  /** The public origin (`https://shop.example`) of cache keys, instead of each request's Host. */
  origin?: string;
  /** The worker built from the manifest (`buildServiceWorker(...).code`), served at `serviceWorkerPath`. */
  serviceWorker?: string;
  /** Where the worker is served. Default `/sw.js`. */
  serviceWorkerPath?: string;
  /** Where the purge stream is served. Default `/strata/events`. */
  eventsPath?: string;
  /** Keep the client's `Forwarded`/`X-Forwarded-*` (only behind a proxy that sets them). Default false. */
  trustForwarded?: boolean;
  /** Let the origin's own `Cache-Control` win over the manifest's policy. Default false: the manifest decides. */
  respectOriginCacheControl?: boolean;
  /** The `Via` pseudonym. Default `strata`. */
  pseudonym?: string;
  /** More `createStrata` options (CDN purgers, logger, limits). */
  strata?: Omit<StrataOptions, 'manifest' | 'store' | 'bus' | 'admin'>;
}

export interface StrataProxy {
  readonly strata: Strata;
  /** The `http.createServer` listener. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Closes the upstream connections and the Strata instance (store, bus). */
  close(): Promise<void>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A Host the node adapter accepts (it answers 400 to any other). */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * Whether the origin must be asked for the identity coding: the server cache will keep the answer
 * for everyone and keys on the route's `vary` alone, so unless that names `accept-encoding`, one
 * stored coding must suit every client (docs/http-rules.md#proxy).
 */
function identityOnly(manifest: Manifest, url: URL, method: string): boolean {
  const match = matchRoute(manifest, url, method);
  return match !== undefined && storesAt(match.policy, 'server') && !match.policy.vary?.includes('accept-encoding');
}

/**
 * Strata in front of an origin that knows nothing of it: every request goes through
 * `strata.handle` (the manifest's headers, server cache, stale windows, write invalidation) with
 * the upstream as its origin — but a GET or HEAD no route matches, which `handle` would pass on
 * untouched, is piped straight through; the worker, the purge stream, the admin API and `/metrics` are
 * answered here. Hop-by-hop fields are dropped both ways; `Via` and the forwarding fields are set.
 */
export function createProxy(options: ProxyOptions): StrataProxy {
  const upstream = upstreamUrl(options.upstream);
  const pseudonym = options.pseudonym ?? 'strata';
  if (!TOKEN.test(pseudonym)) throw new StrataError('E_CONFIG_INVALID', `pseudonym ${pseudonym} must be a token`);
  const timeoutMs = options.upstreamTimeoutMs ?? 30_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new StrataError('E_CONFIG_INVALID', `upstreamTimeoutMs must be a positive whole number, got ${timeoutMs}`);
  const adminBase = '/api/v1/cache';
  const strata = createStrata({
    ...options.strata,
    manifest: options.manifest,
    ...(options.store ? { store: options.store } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.adminToken ? { admin: { token: options.adminToken, basePath: adminBase } } : {}),
    respectHandlerCacheControl: options.respectOriginCacheControl ?? false,
    // Later than the upstream's own timeout, so the answer names the upstream (E_UPSTREAM_TIMEOUT).
    originTimeoutMs: options.strata?.originTimeoutMs ?? timeoutMs + 1_000,
  });
  const upstreamSide = forwarder({ upstream, timeoutMs, pseudonym });
  const swPath = options.serviceWorkerPath ?? '/sw.js';
  const eventsPath = options.eventsPath ?? '/strata/events';
  const worker = options.serviceWorker;
  const origin = (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    // The proxy is the origin of its worker: no Via, nothing from upstream.
    if (worker !== undefined && url.pathname === swPath && (request.method === 'GET' || request.method === 'HEAD'))
      return Promise.resolve(new Response(worker, { headers: { 'content-type': 'text/javascript; charset=utf-8' } }));
    return upstreamSide.forward(request, { identity: identityOnly(options.manifest, url, request.method) });
  };
  const adapterOptions = options.origin ? { origin: options.origin } : {};
  const cached = nodeListener(strata, origin, adapterOptions);

  // A GET or HEAD no route matches is handed to the origin untouched by `strata.handle` (a path
  // with no canonical form gets no-store, a bad Host a 400: those take the full path).
  const passesThrough = (req: IncomingMessage, target: string): boolean =>
    (req.method === 'GET' || req.method === 'HEAD') &&
    target.startsWith('/') &&
    HOST.test(req.headers.host ?? '') &&
    !(worker !== undefined && target.split('?')[0] === swPath) &&
    canonicalPath(target) !== undefined &&
    matchRoute(options.manifest, target, req.method) === undefined;

  // The proxy's own endpoints never reach the origin nor the server cache.
  const own = (path: string): ((request: Request) => Promise<Response>) | undefined => {
    if (path === eventsPath) return (request) => strata.events(request);
    if (!options.adminToken) return undefined;
    if (path === adminBase || path.startsWith(`${adminBase}/`)) return (request) => strata.admin(request);
    if (path === '/metrics') return (request) => strata.metrics(request);
    return undefined;
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const target = req.url ?? '/';
    const query = target.indexOf('?');
    const answer = own(query === -1 ? target : target.slice(0, query));
    if (!answer) {
      forwardRequestFields(req, { trustForwarded: options.trustForwarded ?? false, pseudonym });
      if (passesThrough(req, target)) upstreamSide.pipe(req, res);
      else cached(req, res);
      return;
    }
    let request: Request;
    try {
      request = toRequest(req, { ...adapterOptions, response: res });
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Request');
      return;
    }
    answer(request)
      .then((response) => writeResponse(res, response))
      .catch((error: unknown) => {
        strata.logger.warn('Strata proxy: an endpoint failed', { error });
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
  };

  return {
    strata,
    listener,
    async close() {
      upstreamSide.close();
      await strata.close();
    },
  };
}
