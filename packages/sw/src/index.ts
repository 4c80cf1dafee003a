export type { CacheStatus, Detail, Forward } from './cache-status.js';
export type { SwErrorCode } from './errors.js';
export { installStrata, type StrataOptions, type StrataWorker } from './install.js';
export type {
  LogoutMessage,
  MessageId,
  PurgeMessage,
  ResetMessage,
  SetUserMessage,
  StatsMessage,
  StrataMessage,
  StrataReply,
} from './messages.js';
export type { ReconcileResult } from './reconcile.js';
export type { Counter, RouteStats, StatsSnapshot } from './stats.js';
