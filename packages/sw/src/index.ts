export type {
  Counter,
  LogoutMessage,
  MessageId,
  Precache,
  PrecacheEntry,
  PurgeMessage,
  ResetMessage,
  RouteStats,
  SetUserMessage,
  StatsMessage,
  StatsSnapshot,
  StrataMessage,
  StrataReply,
} from '@strata/policy/protocol';
export type { CacheStatus, Detail, Forward } from './cache-status.js';
export type { SwErrorCode } from './errors.js';
export { installStrata, type StrataOptions, type StrataWorker } from './install.js';
export { installPrecache, type PrecacheOptions } from './precache.js';
export type { ReconcileResult } from './reconcile.js';
