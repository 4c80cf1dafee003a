/**
 * The page ↔ worker message protocol of @strata/sw, as the page sees it. The packages do not
 * import each other (docs/architecture.md#packages), so the shapes are restated here; the browser
 * suites run both against each other.
 */
export type Counter = 'hit' | 'miss' | 'stale' | 'revalidated' | 'error-fallback' | 'purged' | 'discarded';
export type RouteStats = Record<Counter, number>;

export interface StatsSnapshot {
  routes: Record<string, RouteStats>;
  total: RouteStats;
}

export type WorkerMessage =
  | { type: 'strata:purge'; id?: string; tags: string[]; keys: string[] }
  | { type: 'strata:reset'; id?: string }
  | { type: 'strata:set-user'; user: string | null }
  | { type: 'strata:logout'; user?: string | null }
  | { type: 'strata:stats' };

export type WorkerReply =
  | { type: 'strata:purged'; id?: string; evicted: number }
  | { type: 'strata:user'; user: string | null }
  | { type: 'strata:logged-out'; user: string | null; evicted: number }
  | ({ type: 'strata:stats' } & StatsSnapshot)
  | { type: 'strata:error'; id?: string; error: { code: string; message: string } };
