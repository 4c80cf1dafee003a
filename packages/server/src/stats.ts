/** What happened to one request the server cache handled. */
export type Outcome = 'hit' | 'miss' | 'stale' | 'bypass' | 'error-fallback';

export interface Counters {
  hit: number;
  miss: number;
  stale: number;
  bypass: number;
  /** Stale copies served because the origin failed (stale-if-error). */
  'error-fallback': number;
}

export interface StatsSnapshot {
  totals: Counters & { hitRatio: number };
  routes: Record<string, Counters & { hitRatio: number }>;
  /** Store operations that failed on the request path (the request was still served). */
  storeErrors: number;
  /** Background revalidations and data refreshes that failed. */
  backgroundErrors: number;
  /** Entries that could not be decoded and were treated as misses. */
  corruptEntries: number;
  /** Entries found but invalidated by a tag version bump (purges taking effect). */
  invalidatedReads: number;
}

const zero = (): Counters => ({ hit: 0, miss: 0, stale: 0, bypass: 0, 'error-fallback': 0 });

/** Hits over lookups; stale answers count as hits, since the origin was not waited for. */
const ratio = (c: Counters) => {
  const served = c.hit + c.stale + c['error-fallback'];
  const total = served + c.miss + c.bypass;
  return total === 0 ? 0 : served / total;
};

/** Per-route and total counters for one Strata instance. */
export class Stats {
  readonly totals = zero();
  readonly routes = new Map<string, Counters>();
  storeErrors = 0;
  backgroundErrors = 0;
  corruptEntries = 0;
  invalidatedReads = 0;

  record(route: string, outcome: Outcome): void {
    this.totals[outcome]++;
    const counters = this.routes.get(route) ?? zero();
    this.routes.set(route, counters);
    counters[outcome]++;
  }

  snapshot(): StatsSnapshot {
    const routes: StatsSnapshot['routes'] = {};
    for (const [route, c] of this.routes) routes[route] = { ...c, hitRatio: ratio(c) };
    return {
      totals: { ...this.totals, hitRatio: ratio(this.totals) },
      routes,
      storeErrors: this.storeErrors,
      backgroundErrors: this.backgroundErrors,
      corruptEntries: this.corruptEntries,
      invalidatedReads: this.invalidatedReads,
    };
  }
}
