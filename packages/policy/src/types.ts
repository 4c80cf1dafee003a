/** A level a response can be cached at. The browser level is the service worker (and the HTTP cache). */
export type Level = 'browser' | 'cdn' | 'server';

export const LEVELS: readonly Level[] = ['browser', 'cdn', 'server'];

/** HTTP methods a route may name. */
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

export const METHODS: readonly Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Methods whose responses a cache may store (RFC 9110 §9.2.1 safe methods that caches understand). */
export const CACHEABLE_METHODS: readonly Method[] = ['GET', 'HEAD'];

/**
 * How one route is cached. Durations are whole seconds.
 * A policy whose `levels` is empty is stored nowhere (`no-store` everywhere).
 */
export interface Policy {
  /** Seconds fresh: the base TTL of every level. */
  ttl: number;
  /** Where the response may be stored. */
  levels: Level[];
  /** Invalidation tag templates over route params: `users`, `user:{id}`. */
  tags?: string[];
  /** Request headers that split the cache key; also emitted as `Vary`. Lower-case. */
  vary?: string[];
  /** `private`: never stored by shared caches; cached per user partition in the SW and server. */
  scope?: 'public' | 'private';
  /** Seconds a stale response may be served while one revalidation runs (RFC 5861 §3). */
  staleWhileRevalidate?: number;
  /** Seconds a stale response may be served when the origin fails or answers 5xx (RFC 5861 §4). */
  staleIfError?: number;
  /** Per-level TTL overrides. */
  browserTtl?: number;
  cdnTtl?: number;
  serverTtl?: number;
  /** The response never changes while fresh (RFC 8246). */
  immutable?: boolean;
  /** Never serve stale, not even on error (RFC 9111 §5.2.2.2). */
  mustRevalidate?: boolean;
}

/** Options every preset accepts: everything but the TTL and the levels. */
export type PolicyOptions = Omit<Policy, 'ttl' | 'levels'>;

export interface RouteInput {
  /** Path pattern: literal segments, `:param` segments, and an optional trailing `*`. */
  match: string;
  /** Methods this route applies to. Default: GET and HEAD. */
  methods?: Method[];
  policy: Policy;
  /**
   * Write rules: tag templates over the route's params (`users`, `user:{id}`) that a 2xx or 3xx
   * answer to one of the route's unsafe methods (POST, PUT, PATCH, DELETE) purges at every level,
   * in the same event as the written URL (RFC 9111 §4.4).
   */
  invalidates?: string[];
}

export interface ManifestDefaults {
  /**
   * The longest time, in seconds, that a layer no purge can reach (the browser's HTTP cache,
   * or a CDN whose tag header had to be truncated) may keep a tagged response. Default 60.
   */
  maxUnpurgeableAge?: number;
  /** Applied to every storing route that does not set its own. */
  staleWhileRevalidate?: number;
  /** Applied to every storing route that does not set its own. */
  staleIfError?: number;
  /**
   * Request headers that carry a user's credentials (lower-case). Every private answer varies on
   * them, so the browser's HTTP cache, shared by every user of that browser, never hands one user's
   * answer to another (RFC 9111 §4.1). An empty list makes private answers `no-cache` in the browser
   * instead. Default `['authorization', 'cookie']`.
   */
  credentialHeaders?: string[];
  /**
   * Seconds any level may keep a 4xx/5xx answer it is allowed to store (404, 410…), stale windows
   * included; such answers are never `immutable`. 2xx and 3xx answers keep the route's policy. Default 10.
   */
  negativeTtl?: number;
}

export interface ManifestInput {
  /** Changing it drops every cache the previous version filled (service worker caches, server keys). */
  version: string | number;
  defaults?: ManifestDefaults;
  routes: RouteInput[];
}

export interface Route {
  match: string;
  methods: Method[];
  policy: Policy;
  /** Write rules, deduplicated; absent when the route has none. */
  invalidates?: string[];
}

/**
 * A validated, normalized manifest. Plain data: it survives JSON round trips, so it can be
 * inlined into a service worker or read by the CLI. Compiled matchers live beside it.
 */
export interface Manifest {
  version: string;
  defaults: { maxUnpurgeableAge: number; credentialHeaders: string[]; negativeTtl: number };
  routes: Route[];
}

export interface RouteMatch {
  route: Route;
  /** Index of the route in `manifest.routes`. */
  index: number;
  policy: Policy;
  /** Decoded route params. */
  params: Record<string, string>;
  /** Expanded, validated tags. */
  tags: string[];
  /** The route's write rules, expanded and validated: what a successful unsafe request purges. */
  invalidates: string[];
}
