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
