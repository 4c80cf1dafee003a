import { SERVER_OUTCOMES } from '@strata/policy/protocol';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Stats } from './stats.js';
import type { TierStats } from './store/tiered.js';

export interface MetricsSources {
  stats: Stats;
  outboxSize: () => number;
  sseConnections: () => number;
  storeHealth: () => { failures: number; timeouts: number; circuit: string };
  busLagMs: () => number;
  /** The two tiers' numbers, where an L1 sits in front of the shared store. */
  tiers?: (() => TierStats) | undefined;
}

export interface Metrics {
  registry: Registry;
  /** Seconds from a purge's publication to this instance receiving it. */
  purgeDelivery: Histogram;
}

/**
 * Prometheus metrics of one instance, in a registry of its own (no process-wide default
 * registry, so several instances and tests never collide).
 */
export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  const lookups = new Counter({
    name: 'strata_cache_lookups_total',
    help: 'Server and data cache lookups by route and outcome (hit, stale, miss, collapsed, bypass, error-fallback).',
    labelNames: ['route', 'outcome'],
    registers: [registry],
  });
  // Lookups recorded before this registry existed (it is built on the first scrape) count too.
  for (const [route, counters] of sources.stats.routes) {
    for (const outcome of SERVER_OUTCOMES)
      if (counters[outcome] > 0) lookups.inc({ route, outcome }, counters[outcome]);
  }
  sources.stats.onRecord((route, outcome) => lookups.inc({ route, outcome }));
  // Per route, what the stats counted up to the last scrape: each scrape adds the difference.
  const originSeen = new Map<string, number>();
  new Counter({
    name: 'strata_origin_calls_total',
    help: 'Calls the server and data caches made to the origin, by route (loads, refreshes, bypasses).',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      for (const [route, counters] of sources.stats.routes) {
        const seen = originSeen.get(route) ?? 0;
        if (counters.origin > seen) this.inc({ route }, counters.origin - seen);
        originSeen.set(route, counters.origin);
      }
    },
  });

  const purgeDelivery = new Histogram({
    name: 'strata_purge_delivery_seconds',
    help: 'Time from a purge being published to this instance receiving it from the log.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'strata_purge_outbox_size',
    help: 'Purges waiting for the store or the purge log to come back.',
    registers: [registry],
    collect() {
      this.set(sources.outboxSize());
    },
  });
  new Gauge({
    name: 'strata_sse_connections',
    help: 'Open purge streams (Server-Sent Events) to browsers.',
    registers: [registry],
    collect() {
      this.set(sources.sseConnections());
    },
  });
  new Gauge({
    name: 'strata_purge_log_lag_seconds',
    help: 'How far behind the purge log this instance is.',
    registers: [registry],
    collect() {
      this.set(sources.busLagMs() / 1000);
    },
  });
  new Gauge({
    name: 'strata_store_circuit_open',
    help: '1 while the store circuit breaker is open or half-open (requests bypass the server cache).',
    registers: [registry],
    collect() {
      this.set(sources.storeHealth().circuit === 'closed' ? 0 : 1);
    },
  });
  // Counters fed from totals kept elsewhere: each scrape adds what happened since the last one.
  const seen = { errors: 0, timeouts: 0 };
  new Counter({
    name: 'strata_store_errors_total',
    help: 'Store operations that failed or timed out (the request was still served).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const health = sources.storeHealth();
      const errors = health.failures - health.timeouts;
      if (errors > seen.errors) this.inc({ kind: 'error' }, errors - seen.errors);
      if (health.timeouts > seen.timeouts) this.inc({ kind: 'timeout' }, health.timeouts - seen.timeouts);
      seen.errors = Math.max(seen.errors, errors);
      seen.timeouts = Math.max(seen.timeouts, health.timeouts);
    },
  });
  if (sources.tiers) tierMetrics(registry, sources.tiers);
  return { registry, purgeDelivery };
}

/** The L1 and L2 numbers `/stats` reports under `tiers`, fed from its totals at each scrape. */
function tierMetrics(registry: Registry, tiers: () => TierStats): void {
  const seen = new Map<string, number>();
  /** What `total` grew by since the last scrape that saw it under `name`. */
  const growth = (name: string, total: number): number => {
    const before = seen.get(name) ?? 0;
    seen.set(name, Math.max(before, total));
    return Math.max(0, total - before);
  };
  new Counter({
    name: 'strata_tier_reads_total',
    help: 'Reads of the two-tier store: answered by the in-process L1 (tier="l1", result="hit") or passed on to the shared store (l1 miss), and whether the shared store (l2) found a value.',
    labelNames: ['tier', 'result'],
    registers: [registry],
    collect() {
      const { l1, l2 } = tiers();
      const totals = [
        ['l1', 'hit', l1.hits],
        ['l1', 'miss', l1.misses],
        ['l2', 'hit', l2.hits],
        ['l2', 'miss', l2.misses],
      ] as const;
      // Every series from the first scrape on, at 0 until it counts something.
      for (const [tier, result, total] of totals) this.inc({ tier, result }, growth(`${tier} ${result}`, total));
    },
  });
  new Counter({
    name: 'strata_l1_flushes_total',
    help: 'Times the whole in-process L1 was dropped: a reset or a gap in the purge log, a clear-all or pattern purge, the log unreachable.',
    registers: [registry],
    collect() {
      const grown = growth('flushes', tiers().flushes);
      if (grown > 0) this.inc(grown);
    },
  });
  new Gauge({
    name: 'strata_l1_entries',
    help: 'Entries the in-process L1 holds.',
    registers: [registry],
    collect() {
      this.set(tiers().l1.entries);
    },
  });
  new Gauge({
    name: 'strata_l1_bytes',
    help: 'Bytes of values the in-process L1 holds.',
    registers: [registry],
    collect() {
      this.set(tiers().l1.bytes);
    },
  });
}
