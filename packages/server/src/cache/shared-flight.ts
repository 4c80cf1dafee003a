import type { ResilientStore } from '../store/resilient.js';

/** Cross-instance single flight: see `StrataOptions.sharedFlight`. */
export interface SharedFlightOptions {
  /** How long one instance's load holds the lease; others wait at most this long. Default 3,000 ms. */
  leaseMs?: number;
  /** How often a waiting instance looks for the entry (and for a lease given back). Default 10 ms. */
  pollMs?: number;
}

export interface SharedFlightSettings {
  leaseMs: number;
  pollMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `load` on one instance at a time for the lease `name`: the instance that takes the lease
 * loads (and gives it back once done); the others poll, taking what `find` finds in the store
 * (the entry that load wrote) or the lease once it is free — given back without a shareable
 * answer, or expired after `leaseMs` — and then load themselves. A store that cannot lease, or
 * fails, never delays a load: the instance loads on its own. `find` rejecting counts as not found.
 */
export async function sharedFlight<L>(
  store: ResilientStore,
  name: string,
  settings: SharedFlightSettings,
  load: () => Promise<L>,
  find: () => Promise<L | undefined>,
): Promise<L> {
  const { lease, unlease } = store;
  if (!lease || !unlease) return load();
  // undefined: another instance holds it; null: the store failed.
  const take = () => lease(name, settings.leaseMs).catch(() => null);
  let token = await take();
  const waited = token === undefined;
  // A holder keeps the lease at most `leaseMs`: after twice that, stop waiting whatever happens.
  const giveUpAt = Date.now() + 2 * settings.leaseMs;
  while (token === undefined && Date.now() < giveUpAt) {
    await sleep(settings.pollMs);
    const found = await find().catch(() => undefined);
    if (found !== undefined) return found;
    token = await take();
  }
  if (token === undefined || token === null) return load();
  const held = token;
  try {
    // Taken after waiting: the holder may have stored its entry and given the lease back between
    // this instance's last look and its take. One more look, or that load is made twice.
    const found = waited ? await find().catch(() => undefined) : undefined;
    return found !== undefined ? found : await load();
  } finally {
    void unlease(name, held).catch(() => {});
  }
}
