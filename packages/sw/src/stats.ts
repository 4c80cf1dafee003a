import { COUNTERS, type Counter, type RouteStats, type StatsSnapshot } from '@strata/policy/protocol';

const zero = (): RouteStats => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as RouteStats;

export interface StatsStore {
  load(): Promise<unknown>;
  save(routes: Record<string, RouteStats>): Promise<void>;
}

/**
 * Counts in memory, saved at most once per `delay` ms off the hit path, so they survive the
 * worker being stopped when idle. The saved counts load once in the background and add up with
 * the ones made meanwhile.
 */
export class Stats {
  readonly #routes: Record<string, RouteStats> = {};
  readonly #store: StatsStore | undefined;
  readonly #loaded: Promise<void>;
  readonly #delay: number;
  #saving: Promise<void> | undefined;

  constructor(store?: StatsStore, delay = 1000) {
    this.#store = store;
    this.#delay = delay;
    this.#loaded = (store?.load() ?? Promise.resolve()).then(
      (saved) => {
        for (const [route, counts] of Object.entries(saved ?? {})) {
          for (const counter of COUNTERS) {
            const n = (counts as Partial<RouteStats> | null)?.[counter];
            if (Number.isSafeInteger(n) && (n as number) > 0) this.bump(route, counter, n as number);
          }
        }
      },
      () => undefined,
    );
  }

  bump(route: string, counter: Counter, by = 1): void {
    this.#routes[route] ??= zero();
    (this.#routes[route] as RouteStats)[counter] += by;
  }

  /** Schedules a save and returns it, for `waitUntil`. */
  saveSoon(): Promise<void> {
    const store = this.#store;
    if (!store) return Promise.resolve();
    this.#saving ??= new Promise((resolve) => setTimeout(resolve, this.#delay))
      .then(() => this.#loaded)
      .then(() => {
        this.#saving = undefined;
        return store.save(this.#routes);
      })
      .catch(() => undefined);
    return this.#saving;
  }

  /** The counts, including the saved ones. */
  async snapshot(): Promise<StatsSnapshot> {
    await this.#loaded;
    const total = zero();
    for (const counts of Object.values(this.#routes)) for (const c of COUNTERS) total[c] += counts[c];
    return { routes: structuredClone(this.#routes), total };
  }
}
