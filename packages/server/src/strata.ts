import type { Manifest } from '@strata/policy';
import { parseManifest } from '@strata/policy/validate';
import { type AdminAuth, checkAdmin } from './admin/auth.js';
import { adminBackend } from './admin/backend.js';
import { adminApi } from './admin/router.js';
import { isLoss } from './bus/event.js';
import { memoryBus } from './bus/memory.js';
import type { Bus, BusStats } from './bus/types.js';
import { DEFAULT_CACHEABLE_STATUSES } from './cache/policy-headers.js';
import { type Next, ResponseCache } from './cache/response-cache.js';
import type { SharedFlightOptions, SharedFlightSettings } from './cache/shared-flight.js';
import { withRetry } from './cdn/retry.js';
import type { Purger, PurgerReport } from './cdn/types.js';
import { type CachedOptions, DataCache } from './data-cache.js';
import { eventStream, SseConnections } from './events.js';
import { createHandler } from './handle.js';
import { attachInternals } from './internals.js';
import { LazyMetrics } from './lazy-metrics.js';
import { consoleLogger, type StrataLogger } from './logger.js';
import { positiveOption } from './options.js';
import type { PartitionRequest } from './partition.js';
import { privateNames } from './private-tags.js';
import { type BatchedPurgeResult, PurgeChannel, type PurgeRequest, type PurgeResult } from './purge-channel.js';
import { Stats, type StatsSnapshot } from './stats.js';
import { memoryStore } from './store/memory.js';
import { type ResilienceOptions, resilientStore, type StoreHealth } from './store/resilient.js';
import { type L1Options, l1Limits, type TierStats, tieredStore } from './store/tiered.js';
import type { Store } from './store/types.js';
import { Warmer, type WarmJobStatus } from './warm.js';

export interface StrataOptions {
  /**
   * The manifest, from `defineManifest` or `parseManifest` (untyped JSON goes through
   * `parseManifest` from `@strata/policy/validate` first). Validated again here, so a bad one
   * fails at startup, listing every issue.
   */
  manifest: Manifest;
  /** Server cache backend. Default: `memoryStore()`. */
  store?: Store;
  /** The purge log. Default: `memoryBus()` (one process); `redisBus()` to reach every instance. */
  bus?: Bus;
  /** CDNs told about every purge. Their failures are retried and reported, never thrown. */
  cdn?: Purger[];
  /**
   * Invalidation after a successful unsafe request (RFC 9111 §4.4): its URL and same-origin
   * Location / Content-Location are purged in the store, on every instance and in every browser.
   * `cdn: true` also tells the CDN purgers (default false: providers rate-limit purges).
   */
  writeInvalidation?: { cdn?: boolean };
  /** Who may use the admin API (and `/metrics`, see `metrics`). Without it the admin API answers 404. */
  admin?: AdminAuth & { basePath?: string };
  /**
   * `/metrics` access. With `admin` configured, `strata.metrics(request)` requires the same
   * authorization (401/403 otherwise); `public: true` opens it anyway. Without `admin`, it is open.
   */
  metrics?: { public?: boolean };
  /**
   * The user a request belongs to, for `private` policies. A private route without one is never
   * stored. It receives a `Request`, or on the adapters' fast path (node, Express, Fastify) a view
   * with only `method`, `url` and `headers.get`: read nothing else. It may be called twice for one
   * request (the fast path, then the full path on a miss), so keep it cheap and free of side effects.
   */
  partition?(request: PartitionRequest): string | undefined | Promise<string | undefined>;
  /** Timeout and circuit breaker around the store. */
  resilience?: ResilienceOptions;
  /**
   * The in-process tier (L1) in front of a shared store (Redis), kept exact by the purge log: on
   * by default when both the store and the bus are shared (`redisStore` and `redisBus`), `false`
   * turns it off. Ignored otherwise: a memory store is in process already, and without a shared
   * log the L1 could not hear other instances' purges.
   */
  l1?: false | L1Options;
  /** `false` turns the server and data caches off (everything goes to the origin); headers are still set. */
  enabled?: boolean;
  /**
   * Leave responses whose handler set Cache-Control alone. Default true. When a handler's value
   * overrides a route's policy, `logger` is told once per route (`express.static` and
   * `res.sendFile` set one unless given `cacheControl: false`).
   */
  respectHandlerCacheControl?: boolean;
  /** Told about operational problems Strata handles itself. Default: `console.warn`. */
  logger?: StrataLogger;
  /** Largest body the server cache keeps, in bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Statuses the server cache stores. Default 200, 203, 204, 300, 301, 404, 410. */
  cacheableStatuses?: readonly number[];
  /** TTL for `cached()` calls that give none, in seconds. Default 300. */
  defaultTtl?: number;
  /**
   * How long a cache miss waits for the origin (`next`, or a `cached()` function) before every
   * request waiting on it gets the stale-if-error copy, when the policy allows one, or else a
   * 504 (`E_ORIGIN_TIMEOUT`; `cached()` rejects with that StrataError). The next request tries
   * the origin again. Default 30,000.
   */
  originTimeoutMs?: number;
  /**
   * Cross-instance single flight (opt-in, shared stores such as Redis): concurrent misses for one
   * entry on several instances make one origin call. The instance whose miss comes first takes a
   * short lease in the store (`leaseMs`, default 3,000) while it loads; the others poll for the
   * entry it stores (every `pollMs`, default 10) and answer with it (`Cache-Status: collapsed`),
   * or load themselves once the lease is given back without one or has expired. `true` takes
   * the defaults. Without a shared store it does nothing; `cached()` keeps per-instance flights.
   */
  sharedFlight?: boolean | SharedFlightOptions;
  /** Milliseconds between heartbeat comments on the purge stream. Default 15,000. */
  heartbeatMs?: number;
  /**
   * Purge stream limits. `maxConnections` (default 10,000): open streams allowed, one more gets
   * a 503 with Retry-After. `maxBufferedBytes` (default 65,536): bytes queued for a client that
   * does not read them; past it the stream waits for the client and then resumes from the log.
   */
  events?: { maxConnections?: number; maxBufferedBytes?: number };
  /** The store's byte budget, for the performance report's memory advice. */
  storeMaxBytes?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

export type { BatchedPurgeResult, PurgeRequest, PurgeResult };

export interface StrataStats extends StatsSnapshot {
  store: StoreHealth & { entries?: number; bytes?: number };
  bus: BusStats;
  outbox: number;
  /** Hits of the in-process tier and of the shared store, when the L1 is on. */
  tiers?: TierStats;
  sse: ReturnType<SseConnections['snapshot']>;
  warming: WarmJobStatus[];
  cdn: PurgerReport[];
  purges: number;
}

export interface Strata {
  readonly manifest: Manifest;
  /** The `logger` option (default `console.warn`), for adapters to report through. */
  readonly logger: StrataLogger;
  /** Middleware: policy headers on every managed response, the server cache around `next`. */
  handle(request: Request, next: Next): Promise<Response>;
  /** Invalidates at every level: the store at once, other instances and browsers through the log, the CDNs. */
  purge(request: PurgeRequest): Promise<PurgeResult | BatchedPurgeResult>;
  /**
   * Purges made inside `fn` are collected and sent as one event, tags deduplicated, once `fn` has
   * returned. Each resolves at once to a `BatchedPurgeResult` whose `id` resolves to that event's id.
   */
  batch<T>(fn: () => Promise<T>): Promise<T>;
  /** The data cache: `fn`'s result, cached under `key` with tags, single flight, SWR. */
  cached<T>(key: string, fn: () => Promise<T>, options?: CachedOptions<T>): Promise<T>;
  readonly warm: Warmer;
  /** The purge stream for browsers (Server-Sent Events). */
  events(request: Request): Promise<Response>;
  /** The admin API, mounted at `admin.basePath` (default `/api/v1/cache`). */
  admin(request: Request): Promise<Response>;
  /**
   * Prometheus text exposition. With `admin` auth configured (and `metrics.public` unset), pass
   * the request: it is checked like an admin API call, and a call without one answers 401.
   */
  metrics(request?: Request): Promise<Response>;
  stats(): Promise<StrataStats>;
  close(): Promise<void>;
}

/** Creates a Strata instance. Nothing is shared between instances but the store and bus you pass in. */
export function createStrata(options: StrataOptions): Strata {
  const manifest = parseManifest(options.manifest);
  const now = options.now ?? Date.now;
  const shared = resilientStore(options.store ?? memoryStore({ now }), { now, ...options.resilience });
  const bus = options.bus ?? memoryBus();
  if (options.l1) l1Limits(options.l1); // a bad bound is an error even where no L1 is built
  const tiered =
    shared.shared && bus.shared && options.l1 !== false ? tieredStore(shared, { ...options.l1, bus }) : undefined;
  const store = tiered ?? shared;
  const stats = new Stats(now);
  const enabled = options.enabled ?? true;
  const cacheableStatuses = new Set(options.cacheableStatuses ?? DEFAULT_CACHEABLE_STATUSES);
  const background = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };
  const connections = new SseConnections();
  const events = {
    maxConnections: positiveOption('events.maxConnections', options.events?.maxConnections, true),
    maxBufferedBytes: positiveOption('events.maxBufferedBytes', options.events?.maxBufferedBytes, true),
  };
  const isPrivate = privateNames(manifest);
  const startedAt = now();
  const logger = options.logger ?? consoleLogger;
  // The sources are read at scrape time, when `channel` exists.
  const metrics = new LazyMetrics({
    stats,
    outboxSize: () => channel.outboxSize,
    sseConnections: () => connections.open,
    storeHealth: () => store.health(),
    busLagMs: () => bus.stats().lagMs,
    tiers: tiered && (() => tiered.tiers()),
  });
  const channel = new PurgeChannel({
    store,
    bus,
    purgers: (options.cdn ?? []).map((purger) => withRetry(purger)),
    now,
    track,
    onEvent: (event) => {
      // Purges replayed from before this instance started say nothing about delivery latency, and
      // a reset the bus made was never published.
      if (!isLoss(event) && event.at >= startedAt) metrics.observeDelivery(Math.max(0, now() - event.at) / 1000);
    },
  });
  channel.start();
  const bypass = (tags: readonly string[], storedAt?: number) => channel.distrusts(tags, storedAt);
  const originTimeoutMs = positiveOption('originTimeoutMs', options.originTimeoutMs, false) ?? 30_000;
  const cache = new ResponseCache({
    store,
    stats,
    now,
    maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024,
    cacheableStatuses,
    track,
    bypass,
    originTimeoutMs,
    sharedFlight: sharedFlightSettings(options.sharedFlight),
  });
  const data = new DataCache({
    store,
    stats,
    now,
    enabled,
    defaultTtl: options.defaultTtl ?? 300,
    track,
    bypass,
    originTimeoutMs,
  });
  const warm = new Warmer({ now });
  const { handle, answerFromCache, answerNow } = createHandler({
    manifest,
    cache,
    enabled,
    headers: {
      maxUnpurgeableAge: manifest.defaults.maxUnpurgeableAge,
      cacheableStatuses,
      respectHandlerCacheControl: options.respectHandlerCacheControl ?? true,
    },
    partition: options.partition,
    logger,
    invalidate: (urls) => channel.invalidateWrite(urls, options.writeInvalidation?.cdn ?? false),
    write: (run, after) => channel.write(run, after, options.writeInvalidation?.cdn ?? false),
  });

  async function snapshot(): Promise<StrataStats> {
    const size = await store.size().catch(() => undefined);
    return {
      ...stats.snapshot(),
      store: { ...store.health(), ...size },
      bus: bus.stats(),
      outbox: channel.outboxSize,
      ...(tiered ? { tiers: tiered.tiers() } : {}),
      sse: connections.snapshot(),
      warming: warm.status(),
      cdn: [...channel.reports],
      purges: channel.purges,
    };
  }

  let queryStats: (() => unknown) | undefined;
  const { basePath, ...auth } = options.admin ?? {};
  const adminAuth = options.admin ? (auth as AdminAuth) : undefined;
  const admin = adminApi(
    adminBackend({
      store,
      stats,
      data,
      channel,
      warm,
      now,
      snapshot,
      maxBytes: options.storeMaxBytes,
      busLagMs: () => bus.stats().lagMs,
      queryStats: () => queryStats?.(),
    }),
    { auth: adminAuth, ...(basePath ? { basePath } : {}) },
  );

  const strata: Strata = {
    manifest,
    logger,
    handle,
    // The app's call is the channel's own method: the first hop of the purge path (docs/architecture.md#the-purge-path).
    purge: channel.purge.bind(channel),
    async batch(fn) {
      return (await channel.batch(fn)).result;
    },
    cached: (key, fn, opts) => data.cached(key, fn, opts),
    warm,
    events: (request) =>
      eventStream(request, {
        bus,
        partition: options.partition ?? (() => undefined),
        isPrivate,
        connections,
        ...events,
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      }),
    admin,
    async metrics(request) {
      if (adminAuth && !options.metrics?.public) {
        const denied = await checkAdmin(request ?? new Request('http://strata.invalid/metrics'), adminAuth);
        if (denied) return denied;
      }
      const registry = await metrics.registry();
      return new Response(await registry.metrics(), {
        headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
      });
    },
    stats: snapshot,
    async close() {
      warm.close();
      channel.close();
      await Promise.allSettled([...background]);
      await channel.flush().catch(() => {});
      await Promise.allSettled([bus.close(), store.close()]);
    },
  };
  return attachInternals(strata, {
    answerFromCache,
    answerNow,
    useQueryStats(provider) {
      queryStats = provider;
    },
  });
}

/** The `sharedFlight` option, checked, with its defaults; undefined when off. */
function sharedFlightSettings(option: StrataOptions['sharedFlight']): SharedFlightSettings | undefined {
  if (!option) return undefined;
  const given = option === true ? {} : option;
  return {
    leaseMs: positiveOption('sharedFlight.leaseMs', given.leaseMs, false) ?? 3_000,
    pollMs: positiveOption('sharedFlight.pollMs', given.pollMs, false) ?? 10,
  };
}
