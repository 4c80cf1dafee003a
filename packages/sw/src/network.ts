import type { PluginState, WorkboxPlugin } from 'workbox-core';

/**
 * The network side of one handled request: fetches run the Workbox plugins' `requestWillFetch`,
 * `fetchDidSucceed` and `fetchDidFail` callbacks, and background work (a revalidation, a write)
 * keeps the event alive until it settles. It does what the strategy needed of Workbox's
 * `StrategyHandler` (which also carries cache reads and writes this package does its own way) in
 * a fraction of the worker's bytes.
 */
export class Network {
  readonly #event: ExtendableEvent;
  readonly #plugins: [WorkboxPlugin, PluginState][];
  readonly #pending: Promise<unknown>[] = [];
  readonly #done: () => void;
  readonly #init: RequestInit;

  /** `init`: the fetch options of every request but navigations. */
  constructor(event: ExtendableEvent, plugins: readonly WorkboxPlugin[], init: RequestInit) {
    this.#event = event;
    this.#init = init;
    this.#plugins = plugins.map((plugin) => [plugin, {}]);
    let done!: () => void;
    // The event's lifetime can only be extended while it is dispatched: extend it once, now, until
    // every promise handed to `waitUntil` has settled.
    event.waitUntil(new Promise<void>((resolve) => (done = resolve)));
    this.#done = done;
  }

  /** Keeps the event alive until `promise` settles (after the response went out). */
  waitUntil(promise: Promise<unknown>): void {
    this.#pending.push(promise);
  }

  /** Lets the event end once every promise handed to `waitUntil`, including later ones, has settled. */
  async finish(): Promise<void> {
    while (this.#pending.length > 0) await Promise.allSettled(this.#pending.splice(0));
    this.#done();
  }

  /**
   * The network's answer: a navigation's preload response if there is one, else `fetch` with the
   * options (not for navigations: a navigation request cannot be given fetch options).
   */
  async fetch(input: Request): Promise<Response> {
    const event = this.#event;
    if (input.mode === 'navigate' && event instanceof FetchEvent) {
      const preloaded = (await event.preloadResponse) as Response | undefined;
      if (preloaded) return preloaded;
    }
    const original = input.clone();
    let request = input;
    for (const [plugin, state] of this.#plugins) {
      if (plugin.requestWillFetch) request = await plugin.requestWillFetch({ request: request.clone(), event, state });
    }
    const filtered = request.clone();
    try {
      let response = await fetch(request, request.mode === 'navigate' ? undefined : this.#init);
      for (const [plugin, state] of this.#plugins) {
        if (plugin.fetchDidSucceed)
          response = await plugin.fetchDidSucceed({ request: filtered, response, event, state });
      }
      return response;
    } catch (error) {
      for (const [plugin, state] of this.#plugins) {
        await plugin.fetchDidFail?.({
          error: error as Error,
          event,
          originalRequest: original,
          request: filtered,
          state,
        });
      }
      throw error;
    }
  }
}
