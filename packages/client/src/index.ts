export type { Counter, RouteStats, StatsSnapshot } from '@strata/policy/protocol';
export type { AppliedPurge, AppliedReset, ClientEvents, StrataClient } from './client.js';
export type { ClientErrorCode } from './errors.js';
export { type RegisterOptions, registerStrata } from './register.js';
