export type { AdminAuth } from './admin/auth.js';
export { compareIds, isValidId } from './bus/ids.js';
export { type MemoryBusOptions, memoryBus } from './bus/memory.js';
export type { Bus, BusMessage, BusStats, PurgeEvent, Subscription } from './bus/types.js';
export { cacheKey, normalizeUrl, urlTag } from './cache/key.js';
export { DEFAULT_CACHEABLE_STATUSES } from './cache/policy-headers.js';
export type { Next } from './cache/response-cache.js';
export { type CacheStatusParams, cacheStatusMember } from './cache/status.js';
export { type CloudflarePurgerOptions, cloudflarePurger } from './cdn/cloudflare.js';
export { type FastlyPurgerOptions, fastlyPurger } from './cdn/fastly.js';
export { purgeAll, type ReportingPurger, type RetryOptions, withRetry } from './cdn/retry.js';
export type { CdnPurge, Purger, PurgerReport } from './cdn/types.js';
export { type VarnishPurgerOptions, varnishPurger } from './cdn/varnish.js';
export { configFromEnv, type EnvConfig } from './config.js';
export { type CachedOptions, type Codec, jsonCodec } from './data-cache.js';
export type { StrataLogger } from './logger.js';
export { type BatchedPurgeResult, type PurgeRequest, type PurgeResult, tableTag } from './purge-channel.js';
export type { Counters, Outcome, StatsSnapshot } from './stats.js';
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './store/memory.js';
export {
  type CircuitState,
  type ResilienceOptions,
  type ResilientStore,
  resilientStore,
  type StoreHealth,
} from './store/resilient.js';
export type { Store, StoreRead } from './store/types.js';
export { createStrata, type Strata, type StrataOptions, type StrataStats } from './strata.js';
export type { WarmJobOptions, WarmJobStatus, WarmRun } from './warm.js';
