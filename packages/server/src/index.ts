// The app API. Internals (keys, Cache-Status builders, id ordering, retry and resilience
// wrappers that createStrata applies itself) are not exported; Redis, SQL and the adapters
// live at their subpaths.
export type { AdminAuth } from './admin/auth.js';
export { type MemoryBusOptions, memoryBus } from './bus/memory.js';
export type { Bus, BusStats, PurgeEvent, Subscription } from './bus/types.js';
export type { Next } from './cache/response-cache.js';
export type { SharedFlightOptions } from './cache/shared-flight.js';
export { type CloudflarePurgerOptions, cloudflarePurger } from './cdn/cloudflare.js';
export { type FastlyPurgerOptions, fastlyPurger } from './cdn/fastly.js';
export type { CdnPurge, Purger, PurgerReport } from './cdn/types.js';
export { type VarnishPurgerOptions, varnishPurger } from './cdn/varnish.js';
export { configFromEnv, type EnvConfig } from './config.js';
export type { CachedOptions, Codec } from './data-cache.js';
export type { StrataLogger } from './logger.js';
export type { PartitionRequest } from './partition.js';
export type { BatchedPurgeResult, PurgeRequest, PurgeResult } from './purge-channel.js';
export type { Counters, Outcome, StatsSnapshot } from './stats.js';
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './store/memory.js';
export type { CircuitState, ResilienceOptions, StoreHealth } from './store/resilient.js';
export type { L1Options, TierStats } from './store/tiered.js';
export type { Store, StoreRead } from './store/types.js';
export { createStrata, type Strata, type StrataOptions, type StrataStats } from './strata.js';
export type { WarmJobOptions, WarmJobStatus, WarmRun } from './warm.js';
