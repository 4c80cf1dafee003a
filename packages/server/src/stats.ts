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

interface Bucket {
  minute: number;
  counters: Counters;
}

/** Minutes of per-route history kept for the performance report. */
const HISTORY_MINUTES = 60;

/** Per-route and total counters for one Strata instance, with a minute-by-minute history. */
export class Stats {
  readonly totals = zero();
  readonly routes = new Map<string, Counters>();
  readonly #history = new Map<string, Bucket[]>();
  readonly #now: () => number;
  readonly #listeners: ((route: string, outcome: Outcome) => void)[] = [];
  storeErrors = 0;
  backgroundErrors = 0;
  corruptEntries = 0;
  invalidatedReads = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Told about every recorded outcome (metrics exporters). */
  onRecord(listener: (route: string, outcome: Outcome) => void): void {
    this.#listeners.push(listener);
  }

  record(route: string, outcome: Outcome): void {
    this.totals[outcome]++;
    const counters = this.routes.get(route) ?? zero();
    this.routes.set(route, counters);
    counters[outcome]++;
    const minute = Math.floor(this.#now() / 60_000);
    const buckets = this.#history.get(route) ?? [];
    this.#history.set(route, buckets);
    let bucket = buckets.at(-1);
    if (bucket?.minute !== minute) {
      bucket = { minute, counters: zero() };
      buckets.push(bucket);
      if (buckets.length > HISTORY_MINUTES) buckets.shift();
    }
    bucket.counters[outcome]++;
    for (const listener of this.#listeners) listener(route, outcome);
  }

  /** Each route's counters over the last `minutes`, with its hit ratio. */
  window(minutes: number): Record<string, Counters & { hitRatio: number }> {
    const since = Math.floor(this.#now() / 60_000) - minutes + 1;
    const out: Record<string, Counters & { hitRatio: number }> = {};
    for (const [route, buckets] of this.#history) {
      const sum = zero();
      for (const bucket of buckets) {
        if (bucket.minute < since) continue;
        for (const key of Object.keys(sum) as Outcome[]) sum[key] += bucket.counters[key];
      }
      if (Object.values(sum).some((n) => n > 0)) out[route] = { ...sum, hitRatio: ratio(sum) };
    }
    return out;
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
