export type {
  Counter,
  LogoutMessage,
  MessageId,
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
export type { ReconcileResult } from './reconcile.js';
