/**
 * @strata/policy/protocol: the contracts the server, the worker and the page share. Types and
 * pure functions only (no I/O, no validation library), so each side bundles what it uses.
 */

// The rules every layer applies the same way (also at the package root).
export { storesAt } from '../presets.js';
export { STALE_IF_ERROR_STATUSES, servesStaleOnError } from '../stale-if-error.js';
export { boundWindows, type WindowBounds, type Windows, windowsFor } from '../windows.js';
export {
  appendCacheStatus,
  type CacheStatusForward,
  type CacheStatusParams,
  cacheStatusMember,
} from './cache-status.js';
export { EVENT_FORMAT, type PurgeEvent, type PurgeMode, type ResetReason, readPurgeEvent } from './event.js';
export {
  type ErrorReply,
  type LoggedOutReply,
  type LogoutMessage,
  MAX_PURGE_ITEMS,
  MESSAGE_PREFIX,
  MESSAGE_TYPES,
  type MessageId,
  type MessageType,
  MSG_LOGOUT,
  MSG_PURGE,
  MSG_RESET,
  MSG_SET_USER,
  MSG_STATS,
  type PurgedReply,
  type PurgeMessage,
  REPLY_ERROR,
  REPLY_LOGGED_OUT,
  REPLY_PURGED,
  REPLY_STATS,
  REPLY_USER,
  type ReplyTo,
  type ResetMessage,
  type SetUserMessage,
  type StatsMessage,
  type StatsReply,
  type StrataMessage,
  type StrataReply,
  type UserReply,
} from './messages.js';
export type { Precache, PrecacheEntry } from './precache.js';
export {
  decodeSseEvent,
  encodePosition,
  encodePurgeEvent,
  encodeSseRetry,
  SSE_HEARTBEAT,
  SSE_POSITION,
} from './sse.js';
export {
  COUNTERS,
  type Counter,
  type RouteStats,
  SERVER_COUNTERS,
  SERVER_OUTCOMES,
  type ServerCounter,
  type ServerCounters,
  type ServerOutcome,
  type StatsSnapshot,
  serverHitRatio,
  serverReads,
} from './stats.js';
export { MSG_SKIP_WAITING } from './update.js';
