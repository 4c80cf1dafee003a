import { DEFAULT_CREDENTIAL_HEADERS, type Manifest, matchRoute, storesAt } from '@strata/policy';
import {
  MSG_LOGOUT,
  MSG_PURGE,
  MSG_RESET,
  MSG_SET_USER,
  MSG_SKIP_WAITING,
  MSG_STATS,
  REPLY_LOGGED_OUT,
  REPLY_PURGED,
  REPLY_STATS,
  REPLY_USER,
  type StatsSnapshot,
  type StrataMessage,
  type StrataReply,
} from '@strata/policy/protocol';
import type { RouteHandlerCallback, WorkboxPlugin } from 'workbox-core';
import { cacheStatusMember } from './cache-status.js';
import { serve } from './entry.js';
import { Epochs } from './epochs.js';
import { swError } from './errors.js';
import { Expiration } from './expiration.js';
import { Identity } from './identity.js';
import { invalidateOnWrite } from './invalidate.js';
import { listen } from './listener.js';
import { errorReply, parseMessage } from './messages.js';
import { Partitions } from './partition.js';
import { Evictor } from './purge.js';
import { type ReconcileResult, reconcile } from './reconcile.js';
import { Stats } from './stats.js';
import { StrataStrategy } from './strategy.js';
import { TagIndex } from './tag-index.js';
import { Writer } from './writer.js';

declare const self: ServiceWorkerGlobalScope;

export interface StrataOptions {
  /** Entries kept per cache (the public one and each user's); the oldest stored go first. Default: no limit. */
  maxEntries?: number;
  /** Prefix of Strata's cache names and IndexedDB database: letters, digits, `.`, `_`, `-`. Default `strata`. */
  cachePrefix?: string;
  /** `skipWaiting()` on install, so a new version takes over without waiting for tabs to close. Default true. */
  skipWaiting?: boolean;
  /** `clients.claim()` on activate, so the page that registered the worker is controlled at once. Default true. */
  clientsClaim?: boolean;
  /** Seconds between cleanups while the worker runs. Default 60. */
  cleanupInterval?: number;
  /** Extra Workbox plugins for the managed network fetches (`requestWillFetch`, `fetchDidFail`, …). */
  plugins?: WorkboxPlugin[];
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * A page of this origin (`/`, `/index.html`) whose stored copy answers a navigation that fails
   * with nothing stored for its own URL: the shell of a single-page app, so a page never visited
   * still opens offline and the app can show its own offline state. It is served only once the
   * page itself was stored (visited, on a browser-level route). Default: none.
   */
  navigationFallback?: string;
}

/** What `installStrata` returns: the message operations, for code in the worker itself. */
export interface StrataWorker {
  purge(tags: readonly string[], keys?: readonly string[]): Promise<number>;
  reset(): Promise<number>;
  /** Sets the user; another user than the current one first drops every personal cache. */
  setUser(user: string | null): Promise<void>;
  /**
   * Logs `user` out (default: the current user): for the current user, the user is unset and every
   * personal cache (user partitions, credential-varied entries) dropped; for another, their partition.
   */
  logout(user?: string | null): Promise<number>;
  stats(): Promise<StatsSnapshot>;
  /** Runs expiration now. Resolves false if it failed (the next run starts afresh). */
  cleanup(): Promise<boolean>;
  /** Reconciles Cache Storage and the tag index (done on activate). */
  reconcile(): Promise<ReconcileResult>;
}

const log = (...args: unknown[]): void => {
  if (process.env.NODE_ENV !== 'production') console.warn('[strata]', ...args);
};

/**
 * Installs Strata in a service worker: a fetch listener over the manifest's browser-level routes
 * with the Strata strategy behind them, the page's messages, and the lifecycle (old versions
 * dropped and the index reconciled on activate, cleanups on a timer). Call it once, at the top
 * level of the worker script; all state lives in what it creates.
 */
export function installStrata(manifest: Manifest, options: StrataOptions = {}): StrataWorker {
  if (
    process.env.NODE_ENV !== 'production' &&
    !(typeof manifest?.version === 'string' && Array.isArray(manifest.routes))
  ) {
    throw swError('E_SW_OPTIONS', 'installStrata needs a manifest from defineManifest() or parseManifest()');
  }
  const { maxEntries, cachePrefix = 'strata', now = Date.now } = options;
  if (!/^[\w.-]+$/.test(cachePrefix) || (maxEntries !== undefined && !(maxEntries >= 1))) {
    throw swError('E_SW_OPTIONS', 'cachePrefix must be [A-Za-z0-9._-]+ and maxEntries at least 1');
  }
  const { caches, location } = self;
  const index = new TagIndex(`${cachePrefix}:index`);
  const epochs = new Epochs();
  const partitions = new Partitions(cachePrefix, manifest.version, () => index.getMeta('user'));
  const stats = new Stats({ load: () => index.getMeta('stats'), save: (routes) => index.setMeta('stats', routes) });
  const writer: Writer = new Writer({
    caches,
    index,
    epochs,
    now,
    makeRoom: (cache) => evictor.makeRoom(cache),
    afterWrite: () => void expiration.run(),
    onError: (error) => log('a response was not stored', error),
  });
  const evictor = new Evictor({ caches, index, epochs, writer, stats, origin: location.origin, now });
  const expiration = new Expiration(index, {
    maxEntries,
    now,
    caches: async () => (await caches.keys()).filter((name) => partitions.isCurrent(name)),
    evict: (records) => evictor.evict(records, false),
    onError: (error) => log('cleanup failed; the next one starts afresh', error),
  });

  // The request headers that carry a credential: the manifest's `defaults.credentialHeaders`, and
  // Authorization and Cookie whatever it says, as the worker always treated them (a manifest adds
  // credential headers, it cannot make these plain data here). The default entry inlines only the
  // names beyond these two (build.ts).
  const credentials = [...new Set([...DEFAULT_CREDENTIAL_HEADERS, ...(manifest.defaults?.credentialHeaders ?? [])])];
  const strategy = new StrataStrategy({ caches, credentials, partitions, writer, epochs, stats, now }, options.plugins);
  const { navigationFallback } = options;
  const rules = (url: URL, method: string) => matchRoute(manifest, url, method)?.invalidates ?? [];
  listen(self, {
    route: (url, method) => {
      const match = matchRoute(manifest, url, method);
      return match && storesAt(match.policy, 'browser') ? match : undefined;
    },
    writes: (url, method) => rules(url, method).length > 0,
    read: (options) => strategy.handle(options),
    write: invalidateOnWrite(evictor, location.origin, rules),
    fallback:
      navigationFallback === undefined
        ? undefined
        : shellFallback(caches, new URL(navigationFallback, location.origin), location.origin),
  });

  const identity = new Identity({ caches, partitions, index, evictor });
  const setUser = async (user: string | null): Promise<void> => void (await identity.setUser(user));
  const worker: StrataWorker = {
    purge: (tags, keys = []) => evictor.purge(tags, keys),
    reset: () => evictor.reset(),
    setUser,
    logout: (user) => identity.logout(user),
    stats: () => stats.snapshot(),
    cleanup: () => expiration.run(),
    reconcile: () => reconcile(caches, index, partitions),
  };

  const answer = async (message: StrataMessage): Promise<StrataReply> => {
    const id = message.id === undefined ? {} : { id: message.id };
    switch (message.type) {
      case MSG_PURGE:
        return {
          type: REPLY_PURGED,
          ...id,
          evicted: await evictor.purge(message.tags, message.keys, message.mode === 'soft'),
        };
      case MSG_RESET:
        return { type: REPLY_PURGED, ...id, evicted: await evictor.reset() };
      case MSG_SET_USER:
        await setUser(message.user);
        return { type: REPLY_USER, ...id, user: message.user };
      case MSG_LOGOUT: {
        const evicted = await worker.logout(message.user);
        return { type: REPLY_LOGGED_OUT, ...id, user: partitions.user, evicted };
      }
      case MSG_STATS:
        return { type: REPLY_STATS, ...id, ...(await worker.stats()) };
    }
  };

  self.addEventListener('message', (event) => {
    // A page's applyUpdate(): this worker, waiting (built with skipWaiting: false), takes over.
    if ((event.data as { type?: unknown } | null)?.type === MSG_SKIP_WAITING)
      return event.waitUntil(self.skipWaiting());
    const parsed = parseMessage(event.data, location.origin);
    if (!parsed) return; // not a Strata message
    const reply = (message: StrataReply): void => (event.ports[0] ?? event.source)?.postMessage(message);
    if ('error' in parsed) return reply(errorReply(parsed.error, parsed.id));
    const { message } = parsed;
    event.waitUntil(answer(message).then(reply, (error: unknown) => reply(errorReply(error, message.id))));
  });

  self.addEventListener('install', (event) => {
    if (options.skipWaiting !== false) event.waitUntil(self.skipWaiting());
  });

  self.addEventListener('activate', (event) => {
    // Fetch events wait until activation completes (SW spec, Handle Fetch), so reconciliation sees
    // no write of this worker in progress.
    const activate = async (): Promise<void> => {
      await worker.reconcile().catch((error: unknown) => log('reconciliation failed', error));
      if (options.clientsClaim !== false) await self.clients.claim();
      await expiration.run();
    };
    event.waitUntil(activate());
  });

  setInterval(() => void expiration.run(), (options.cleanupInterval ?? 60) * 1000);
  return worker;
}

/**
 * The fallback handler for `navigationFallback`: a navigation whose route failed (network
 * down, nothing usable stored) gets the stored shell; anything else stays a network error.
 */
function shellFallback(caches: CacheStorage, shell: URL, origin: string): RouteHandlerCallback {
  if (shell.origin !== origin) {
    throw swError('E_SW_OPTIONS', `navigationFallback must be a page of this origin, got ${shell.href}`);
  }
  return async ({ request }) => {
    const stored = request.mode === 'navigate' ? await caches.match(shell.href) : undefined;
    if (!stored) return Response.error();
    return serve(stored, cacheStatusMember({ fwd: 'uri-miss', detail: 'navigation-fallback' }), 0, false);
  };
}
