import type { PluginState, WorkboxPlugin } from 'workbox-core';

/**
 * The network side of one handled request: fetches run the Workbox plugins' `requestWillFetch`,
 * `fetchDidSucceed` and `fetchDidFail` callbacks, and background work (a revalidation, a write)
 * keeps the event alive. It does what the strategy needed of Workbox's `StrategyHandler`, which
 * also carries cache reads and writes this package does its own way, in a fraction of the bytes.
 */
export class Network {
  readonly #event: ExtendableEvent;
  readonly #plugins: [WorkboxPlugin, PluginState][];
  readonly #init: RequestInit;

  /** `init`: the fetch options of every request but navigations. */
  constructor(event: ExtendableEvent, plugins: readonly WorkboxPlugin[], init: RequestInit) {
    this.#event = event;
    this.#plugins = plugins.map((plugin) => [plugin, {}]);
    this.#init = init;
  }

  /**
   * Keeps the event alive until `promise` settles. Called before the response is handed over, while
   * the response promise still extends the event, so the event accepts it (SW spec, `waitUntil`).
   */
  waitUntil(promise: Promise<unknown>): void {
    this.#event.waitUntil(promise);
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
    const originalRequest = input.clone();
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
        await plugin.fetchDidFail?.({ error: error as Error, event, originalRequest, request: filtered, state });
      }
      throw error;
    }
  }
}
