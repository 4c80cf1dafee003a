import type { PurgeEvent, StatsSnapshot } from '@strata/policy/protocol';

/** A purge event of the stream once the service worker has applied it. */
export type AppliedPurge = Pick<PurgeEvent, 'id' | 'tags' | 'keys'> & {
  /** Entries the service worker evicted. */
  evicted: number;
};

/** A reset (a purge event that drops everything tagged) once the service worker has applied it. */
export type AppliedReset = Pick<PurgeEvent, 'id'> & { evicted: number };

export interface ClientEvents {
  /** A purge was applied (in every tab, whichever holds the stream). */
  purge: AppliedPurge;
  /** Everything tagged was dropped: the stream could not replay what was missed. */
  reset: AppliedReset;
  /** A new service worker took control of the page. */
  update: { scriptURL: string };
  /**
   * With `updates: 'prompt'`: a new worker installed and waits to take over (a worker built with
   * `skipWaiting: false`), told once per worker in every tab. `applyUpdate()` switches; each told
   * tab then reloads once.
   */
  waiting: { scriptURL: string };
  /** The page lost the network, or the purge stream dropped: purges made meanwhile apply on reconnect. */
  offline: { reason: 'network' | 'stream' };
  [event: string]: unknown;
}

export interface StrataClient {
  on<K extends 'purge' | 'reset' | 'update' | 'waiting' | 'offline'>(
    type: K,
    listener: (event: ClientEvents[K]) => void,
  ): () => void;
  /** Per-route counters from the service worker. */
  stats(): Promise<StatsSnapshot>;
  /** Sets the user whose partition private responses are cached in; `null` for none. */
  setUser(id: string | null): Promise<void>;
  /** Deletes the current user's partition and unsets the user. Resolves with the entries evicted. */
  logout(): Promise<number>;
  /**
   * Has the waiting worker take over (see the `waiting` event). Every tab told of it then reloads
   * once. False when no worker waits, or `updates` is not `'prompt'`.
   */
  applyUpdate(): boolean;
  /** Whether this tab holds the purge stream. */
  readonly leader: boolean;
  /** False when the browser has no service workers: the client is a no-op. */
  readonly supported: boolean;
  /** Closes the stream (another tab takes over) and removes the listeners. */
  close(): void;
}

const zero = { hit: 0, miss: 0, stale: 0, revalidated: 0, 'error-fallback': 0, purged: 0, discarded: 0 };

/** What `registerStrata` returns where service workers are unavailable: does nothing, never throws. */
export function noopClient(): StrataClient {
  return {
    on: () => () => undefined,
    stats: async () => ({ routes: {}, total: { ...zero } }),
    setUser: async () => undefined,
    logout: async () => 0,
    applyUpdate: () => false,
    leader: false,
    supported: false,
    close: () => undefined,
  };
}
