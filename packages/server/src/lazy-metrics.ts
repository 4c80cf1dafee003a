import type { Registry } from 'prom-client';
import type { Metrics, MetricsSources } from './metrics.js';

/** Purge delivery times kept until the first scrape loads the registry. */
const MAX_PENDING = 1_000;

/**
 * The Prometheus registry, built on the first scrape: `prom-client` is imported then, not when
 * Strata is imported or created. Lookup counts are seeded from the stats kept meanwhile; purge
 * delivery times seen before the first scrape are kept (the last 1,000) and observed then.
 */
export class LazyMetrics {
  readonly #sources: MetricsSources;
  #loading: Promise<Metrics> | undefined;
  #metrics: Metrics | undefined;
  #pending: number[] = [];

  constructor(sources: MetricsSources) {
    this.#sources = sources;
  }

  /** Seconds from a purge's publication to this instance receiving it. */
  observeDelivery(seconds: number): void {
    if (this.#metrics) {
      this.#metrics.purgeDelivery.observe(seconds);
      return;
    }
    this.#pending.push(seconds);
    if (this.#pending.length > MAX_PENDING) this.#pending.shift();
  }

  registry(): Promise<Registry> {
    this.#loading ??= import('./metrics.js').then(
      ({ createMetrics }) => {
        const metrics = createMetrics(this.#sources);
        for (const seconds of this.#pending) metrics.purgeDelivery.observe(seconds);
        this.#pending = [];
        this.#metrics = metrics;
        return metrics;
      },
      (error: unknown) => {
        this.#loading = undefined;
        throw error;
      },
    );
    return this.#loading.then((metrics) => metrics.registry);
  }
}
