import {
  SERVER_COUNTERS,
  type ServerCounters,
  type ServerOutcome,
  serverHitRatio,
  serverReads,
} from '@strata/policy/protocol';

/** What happened to one read the server or data cache handled (see `SERVER_OUTCOMES`). */
export type Outcome = ServerOutcome;

/** Per route: a count per outcome, and `origin`, the calls the cache made to the origin. */
export type Counters = ServerCounters;

export interface StatsSnapshot {
  /** `hitRatio`: (hit + stale) over all reads; `originPerRead`: origin calls over all reads. */
  totals: Counters & { hitRatio: number; originPerRead: number };
  routes: Record<string, Counters & { hitRatio: number; originPerRead: number }>;
  /** Store operations that failed on the request path (the request was still served). */
  storeErrors: number;
  /** Background revalidations and data refreshes that failed. */
  backgroundErrors: number;
  /** Entries that could not be decoded and were treated as misses. */
  corruptEntries: number;
  /** Entries found but invalidated by a tag version bump (purges taking effect). */
  invalidatedReads: number;
}

const zero = (): Counters => Object.fromEntries(SERVER_COUNTERS.map((counter) => [counter, 0])) as Counters;

/** The counters with their ratios: hits and origin calls per read. */
const withRatios = (c: Counters) => {
  const reads = serverReads(c);
  return { ...c, hitRatio: serverHitRatio(c), originPerRead: reads === 0 ? 0 : c.origin / reads };
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
  /** Per route: its counters (the same object as in `routes`) and its minutes of history. */
  readonly #history = new Map<string, { counters: Counters; buckets: Bucket[] }>();
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
    this.#count(route, outcome);
    for (const listener of this.#listeners) listener(route, outcome);
  }

  /** One call the cache made to the origin for `route` (a miss's load, a refresh, a bypass). */
  originCall(route: string): void {
    this.#count(route, 'origin');
  }

  #count(route: string, counter: keyof Counters): void {
    this.totals[counter]++;
    // One lookup per record: every hit comes through here.
    let kept = this.#history.get(route);
    if (!kept) {
      kept = { counters: zero(), buckets: [] };
      this.#history.set(route, kept);
      this.routes.set(route, kept.counters);
    }
    kept.counters[counter]++;
    const minute = Math.floor(this.#now() / 60_000);
    const { buckets } = kept;
    let bucket = buckets[buckets.length - 1];
    if (bucket?.minute !== minute) {
      bucket = { minute, counters: zero() };
      buckets.push(bucket);
      if (buckets.length > HISTORY_MINUTES) buckets.shift();
    }
    bucket.counters[counter]++;
  }

  /** Each route's counters over the last `minutes`, with its hit ratio. */
  window(minutes: number): StatsSnapshot['routes'] {
    const since = Math.floor(this.#now() / 60_000) - minutes + 1;
    const out: StatsSnapshot['routes'] = {};
    for (const [route, { buckets }] of this.#history) {
      const sum = zero();
      for (const bucket of buckets) {
        if (bucket.minute < since) continue;
        for (const key of SERVER_COUNTERS) sum[key] += bucket.counters[key];
      }
      if (Object.values(sum).some((n) => n > 0)) out[route] = withRatios(sum);
    }
    return out;
  }

  snapshot(): StatsSnapshot {
    const routes: StatsSnapshot['routes'] = {};
    for (const [route, c] of this.routes) routes[route] = withRatios(c);
    return {
      totals: withRatios(this.totals),
      routes,
      storeErrors: this.storeErrors,
      backgroundErrors: this.backgroundErrors,
      corruptEntries: this.corruptEntries,
      invalidatedReads: this.invalidatedReads,
    };
  }
}
