/**
 * The worker's counters per manifest route:
 * - hit: served fresh from the cache
 * - miss: went to the network (no entry, or one too stale to serve); stored if storable
 * - stale: served stale while one background revalidation ran
 * - revalidated: a background revalidation stored a new copy
 * - error-fallback: the network failed or answered 500/502/503/504 and a stale copy answered (stale-if-error)
 * - purged: entries evicted by purges, resets, logouts and unsafe requests
 * - discarded: responses dropped because a purge landed while they were in flight
 */
export const COUNTERS = ['hit', 'miss', 'stale', 'revalidated', 'error-fallback', 'purged', 'discarded'] as const;
export type Counter = (typeof COUNTERS)[number];
export type RouteStats = Record<Counter, number>;

/** What `strata:stats` answers: the counts per route and their sum. */
export interface StatsSnapshot {
  routes: Record<string, RouteStats>;
  total: RouteStats;
}

/**
 * What the server cache did with one read (`/stats`, metrics, the benchmarks):
 * - hit: served fresh from the store
 * - stale: served stale while one background refresh ran (stale-while-revalidate)
 * - miss: this read asked the origin (no entry, or one too stale to serve)
 * - collapsed: this read waited for another read's origin call for the same entry and shared its
 *   answer (RFC 9211 `collapsed`): neither a hit nor an origin call of its own
 * - bypass: went to the origin without the store (the store failed, or a purge naming it waits)
 * - error-fallback: the origin failed and a stale copy answered (stale-if-error)
 */
export const SERVER_OUTCOMES = ['hit', 'stale', 'miss', 'collapsed', 'bypass', 'error-fallback'] as const;
export type ServerOutcome = (typeof SERVER_OUTCOMES)[number];

/** The server's counters per route: one per outcome, and `origin`, the calls the cache made to the origin. */
export const SERVER_COUNTERS = [...SERVER_OUTCOMES, 'origin'] as const;
export type ServerCounter = (typeof SERVER_COUNTERS)[number];
export type ServerCounters = Record<ServerCounter, number>;

/** Reads counted: every outcome. */
export const serverReads = (c: Readonly<Record<ServerOutcome, number>>): number =>
  SERVER_OUTCOMES.reduce((sum, outcome) => sum + c[outcome], 0);

/**
 * The hit ratio: reads answered from the cache (hit or stale) over all reads. A collapsed read
 * waited for the origin, so it is not a hit; an error-fallback was not chosen by the cache.
 */
export const serverHitRatio = (c: Readonly<Record<ServerOutcome, number>>): number => {
  const reads = serverReads(c);
  return reads === 0 ? 0 : (c.hit + c.stale) / reads;
};
