import {
  assertTag,
  CACHEABLE_METHODS,
  type Manifest,
  type Method,
  matchRoute,
  parseManifest,
  StrataError,
} from '@strata/policy';
import { cacheKey, urlTag } from './cache/key.js';
import { DEFAULT_CACHEABLE_STATUSES, policyHeaders, withHeaders } from './cache/policy-headers.js';
import { type Next, ResponseCache } from './cache/response-cache.js';
import { type CachedOptions, DataCache } from './data-cache.js';
import { Stats, type StatsSnapshot } from './stats.js';
import { memoryStore } from './store/memory.js';
import { type ResilienceOptions, resilientStore, type StoreHealth } from './store/resilient.js';
import type { Store } from './store/types.js';
import { Warmer } from './warm.js';

export interface StrataOptions {
  /** The manifest: validated here with `parseManifest`, so a bad one fails at startup, listing every issue. */
  manifest: Manifest | unknown;
  /** Server cache backend. Default: `memoryStore()`. */
  store?: Store;
  /** The user a request belongs to, for `private` policies. A private route without one is never stored. */
  partition?: (request: Request) => string | undefined | Promise<string | undefined>;
  /** Timeout and circuit breaker around the store. */
  resilience?: ResilienceOptions;
  /** `false` turns the server and data caches off (everything goes to the origin); headers are still set. */
  enabled?: boolean;
  /** Leave responses whose handler set Cache-Control alone. Default true. */
  respectHandlerCacheControl?: boolean;
  /** Largest body the server cache keeps, in bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Statuses the server cache stores. Default 200, 203, 204, 300, 301, 404, 410. */
  cacheableStatuses?: readonly number[];
  /** TTL for `cached()` calls that give none, in seconds. Default 300. */
  defaultTtl?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

export interface PurgeRequest {
  tags?: readonly string[];
  /** URLs or paths: every cached variant of each is invalidated. */
  keys?: readonly string[];
}

export interface PurgeResult {
  id: string;
  tags: string[];
  keys: string[];
}

export interface Strata {
  readonly manifest: Manifest;
  /** Middleware: policy headers on every managed response, the server cache around `next`. */
  handle(request: Request, next: Next): Promise<Response>;
  /** Invalidates tags and URLs at once, whatever the number of entries carrying them. */
  purge(request: PurgeRequest): Promise<PurgeResult>;
  /** The data cache: `fn`'s result, cached under `key` with tags, single flight, SWR. */
  cached<T>(key: string, fn: () => Promise<T>, options?: CachedOptions<T>): Promise<T>;
  readonly warm: Warmer;
  stats(): Promise<StatsSnapshot & { store: StoreHealth & { entries?: number; bytes?: number } }>;
  close(): Promise<void>;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Creates a Strata instance. Nothing is shared between instances but the store you pass in. */
export function createStrata(options: StrataOptions): Strata {
  const manifest = parseManifest(options.manifest);
  const now = options.now ?? Date.now;
  const store = resilientStore(options.store ?? memoryStore({ now }), { now, ...options.resilience });
  const stats = new Stats();
  const enabled = options.enabled ?? true;
  const cacheableStatuses = new Set(options.cacheableStatuses ?? DEFAULT_CACHEABLE_STATUSES);
  const background = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };
  const cache = new ResponseCache({
    store,
    stats,
    now,
    maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024,
    cacheableStatuses,
    track,
  });
  const data = new DataCache({ store, stats, now, enabled, defaultTtl: options.defaultTtl ?? 300, track });
  const warm = new Warmer({ now });
  const headerContext = {
    maxUnpurgeableAge: manifest.defaults.maxUnpurgeableAge,
    cacheableStatuses,
    respectHandlerCacheControl: options.respectHandlerCacheControl ?? true,
  };

  // RFC 9111 §4.4: a successful unsafe request invalidates the target URI, and Location /
  // Content-Location when they are same-origin.
  async function invalidateAfterWrite(request: Request, response: Response): Promise<void> {
    if (response.status < 200 || response.status >= 400) return;
    const origin = new URL(request.url).origin;
    const targets = [request.url];
    for (const field of ['location', 'content-location']) {
      const value = response.headers.get(field);
      if (!value) continue;
      try {
        const target = new URL(value, request.url);
        if (target.origin === origin) targets.push(target.href);
      } catch {
        // an unparseable Location is the origin's problem, not a reason to fail the write
      }
    }
    try {
      await store.bump(targets.map(urlTag));
    } catch {
      stats.storeErrors++;
    }
  }

  const serverCached = (url: string) =>
    enabled && (matchRoute(manifest, url, 'GET')?.policy.levels.includes('server') ?? false);

  async function handle(request: Request, next: Next): Promise<Response> {
    const match = matchRoute(manifest, request.url, request.method);
    if (!CACHEABLE_METHODS.includes(request.method as Method)) {
      const response = await next(request);
      // The write may concern a URL the server cache holds, whether or not the manifest lists the method.
      if (UNSAFE.has(request.method) && serverCached(request.url)) await invalidateAfterWrite(request, response);
      return match ? withHeaders(response, policyHeaders(response, { ...headerContext, match })) : response;
    }
    if (!match) return next(request);
    const ctx = { ...headerContext, match };

    const { policy } = match;
    const partition = policy.scope === 'private' ? await options.partition?.(request) : undefined;
    const serverLevel = enabled && policy.levels.includes('server');
    // A private policy without a partition is never stored: there is no one to key it to.
    if (!serverLevel || (policy.scope === 'private' && partition === undefined)) {
      const response = await next(request);
      return withHeaders(response, policyHeaders(response, ctx));
    }
    const key = cacheKey(request.url, request.headers, policy.vary ?? [], partition);
    const tags = [...match.tags, urlTag(request.url)];
    // The cache hands back responses it built itself, so their headers can be set in place.
    const response = await cache.serve(request, { match, key, tags, partition }, next);
    for (const [name, value] of Object.entries(policyHeaders(response, ctx))) response.headers.set(name, value);
    return response;
  }

  let purges = 0;
  async function purge(request: PurgeRequest): Promise<PurgeResult> {
    const tags = [...new Set(request.tags ?? [])];
    const keys = [...new Set(request.keys ?? [])];
    for (const tag of tags) assertTag(tag);
    for (const key of keys) {
      if (typeof key !== 'string' || !(key.startsWith('/') || /^https?:\/\//.test(key))) {
        throw new StrataError('E_KEY_INVALID', `purge key ${JSON.stringify(key)} must be a path or an http(s) URL`);
      }
    }
    await store.bump([...tags, ...keys.map(urlTag)]);
    purges++;
    return { id: `${now()}-${purges}`, tags, keys };
  }

  return {
    manifest,
    handle,
    purge,
    cached: (key, fn, opts) => data.cached(key, fn, opts),
    warm,
    async stats() {
      const health = store.health();
      const size = await store.size().catch(() => undefined);
      return { ...stats.snapshot(), store: { ...health, ...size } };
    },
    async close() {
      warm.close();
      await Promise.allSettled([...background]);
      await store.close();
    },
  };
}
