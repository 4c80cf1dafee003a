export type { ClientEvents, PurgeEvent, ResetEvent, StrataClient } from './client.js';
export type { ClientErrorCode } from './errors.js';
export type { Counter, RouteStats, StatsSnapshot } from './protocol.js';
export { type RegisterOptions, registerStrata } from './register.js';
