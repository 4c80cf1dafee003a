// `@strata/server/redis`: the Redis store and purge log. `redis` (node-redis 5+) is an optional
// peer dependency, imported only by this entry, so the root entry never loads it.
export { type RedisBusOptions, redisBus } from './bus/redis.js';
export { type RedisStoreOptions, redisStore } from './store/redis.js';
