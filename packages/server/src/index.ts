export { cacheKey, normalizeUrl, urlTag } from './cache/key.js';
export { DEFAULT_CACHEABLE_STATUSES } from './cache/policy-headers.js';
export type { Next } from './cache/response-cache.js';
export { type CacheStatusParams, cacheStatusMember } from './cache/status.js';
export { configFromEnv, type EnvConfig } from './config.js';
export { type CachedOptions, type Codec, jsonCodec } from './data-cache.js';
export type { Counters, Outcome, StatsSnapshot } from './stats.js';
export { type MemoryStoreOptions, memoryStore } from './store/memory.js';
export { type RedisStoreOptions, redisStore } from './store/redis.js';
export {
  type CircuitState,
  type ResilienceOptions,
  type ResilientStore,
  resilientStore,
  type StoreHealth,
} from './store/resilient.js';
export type { Store, StoreRead } from './store/types.js';
export { createStrata, type PurgeRequest, type PurgeResult, type Strata, type StrataOptions } from './strata.js';
export type { WarmJobOptions, WarmJobStatus, WarmRun } from './warm.js';
