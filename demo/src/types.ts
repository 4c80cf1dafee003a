/**
 * The JSON the page reads. The demo's own API is typed in demo/common/api.ts, shared with the
 * server; Strata's admin API answers with @strata/server's public types. The page imports them
 * as types only, so none of the server's Node code reaches its bundle.
 */

/**
 * `GET /api/v1/cache/stats` answers `StrataStats`; `POST /api/v1/cache/invalidate` and
 * `/clear-all` answer `PurgeResult`.
 */
export type {
  Counters,
  PurgeResult as PurgeAnswer,
  StrataStats as CacheStats,
  WarmJobStatus as WarmJob,
  WarmRun,
} from '@strata/server';
export * from '../common/api.js';

export interface Recommendation {
  severity: 'info' | 'warning' | 'critical';
  problem: string;
  advice: string[];
}

/** `GET /api/v1/cache/performance-report`. */
export interface PerformanceReport {
  generatedAt: string;
  recommendations: Recommendation[];
}
