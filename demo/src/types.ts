/**
 * The JSON the page reads. The demo's own API is typed in demo/common/api.ts, shared with the
 * server; Strata's admin API is restated here, since @strata/server's modules are Node code.
 */

export * from '../common/api.js';

/** The server cache's counters for one route or in total. */
export interface Counters {
  hit: number;
  miss: number;
  stale: number;
  bypass: number;
  'error-fallback': number;
  /** Reads that waited for another read's origin call and shared its answer. */
  collapsed: number;
  /** Calls the cache made to the origin. */
  origin: number;
}

export interface WarmRun {
  startedAt: string;
  durationMs: number;
  ok: boolean;
  error?: string;
}

export interface WarmJob {
  name: string;
  running: boolean;
  runs: number;
  failures: number;
  intervalSeconds?: number;
  lastRun?: WarmRun;
  lastFailure?: WarmRun;
}

/** `GET /api/v1/cache/stats` (StrataStats). */
export interface CacheStats {
  totals: Counters & { hitRatio: number };
  routes: Record<string, Counters & { hitRatio: number }>;
  storeErrors: number;
  backgroundErrors: number;
  store: {
    level: string;
    circuit: 'closed' | 'open' | 'half-open';
    healthy: boolean;
    failures: number;
    lastError?: { message: string; at: string };
    entries?: number;
    bytes?: number;
  };
  bus: { lastId: string | undefined; retained: number; lagMs: number; connected: boolean };
  outbox: number;
  sse: { open: number; opened: number };
  warming: WarmJob[];
  purges: number;
}

/** `POST /api/v1/cache/invalidate` and `/clear-all`. */
export interface PurgeAnswer {
  id: string;
  queued: boolean;
  tags: string[];
  keys: string[];
}

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
