import type { Precache } from '@strata/policy/protocol';
import { cacheStatusMember } from './cache-status.js';
import { serve } from './entry.js';
import { swError } from './errors.js';

declare const self: ServiceWorkerGlobalScope;

export interface PrecacheOptions {
  /** As `installStrata`'s; precache caches are named `<prefix>-precache:<id>`. Default `strata`. */
  cachePrefix?: string;
}

/** Window clients of each previous deploy's cache, by cache name. */
type Holders = Record<string, string[]>;

/**
 * Precaches a deploy's files, and serves them (cache first) before any other handler: a page
 * never visited opens offline. Call it before `installStrata`, so its fetch listener comes first.
 * - Install stores every file in the deploy's own cache, or fails (and the worker with it): a
 *   deploy is served whole or not at all.
 * - On activate the previous deploys' caches stay, with the window clients open at that moment;
 *   a page of the old deploy still gets the old chunks it asks for. A cache goes once none of its
 *   clients remains (checked on activate and on each navigation).
 */
export function installPrecache(precache: Precache, options: PrecacheOptions = {}): void {
  const { caches, clients, location } = self;
  const prefix = `${options.cachePrefix ?? 'strata'}-precache:`;
  const current = prefix + precache.id;
  // The record of which clients hold which previous deploy; its name has no id after the prefix.
  const record = `${prefix}`;
  const recordKey = new URL('/__strata-precache-holders', location.origin).href;
  /** Every URL served from a precache, and the cache that holds it: this deploy's first. */
  const files = new Map(precache.entries.map((entry) => [new URL(entry.url, location.origin).href, current]));
  const previous = async () =>
    (await caches.keys()).filter((name) => name.startsWith(prefix) && name !== current && name !== record);

  let listed = false;
  const loaded = (async () => {
    for (const name of await previous()) {
      for (const request of await (await caches.open(name)).keys())
        if (!files.has(request.url)) files.set(request.url, name);
    }
  })()
    .catch(() => undefined)
    .then(() => {
      listed = true;
    });

  const holders = async (): Promise<Holders> =>
    (await (await caches.match(recordKey, { cacheName: record }))?.json()) ?? {};

  /** Drops the previous deploys no window client holds any more. */
  const sweep = async (held: Holders): Promise<void> => {
    for (const [name, ids] of Object.entries(held)) {
      const alive = await Promise.all(ids.map((id) => clients.get(id)));
      if (alive.some(Boolean)) continue;
      delete held[name];
      await caches.delete(name);
      for (const [url, holder] of files) if (holder === name) files.delete(url);
    }
    await (await caches.open(record)).put(recordKey, Response.json(held));
  };

  self.addEventListener('install', (event) => {
    const fill = async (): Promise<void> => {
      const cache = await caches.open(current);
      await Promise.all(
        precache.entries.map(async ({ url }) => {
          // Without credentials: a precached page is served to whoever uses this browser next, so it
          // must be the build's, never one a server rendered for the signed-in user.
          const response = await fetch(url, { cache: 'no-cache', credentials: 'omit' });
          if (!response.ok) throw swError('E_SW_FAILED', `precache: ${url} answered ${response.status}`);
          await cache.put(url, response);
        }),
      );
    };
    event.waitUntil(
      fill().catch(async (error: unknown) => {
        await caches.delete(current); // nothing of a failed deploy stays
        throw error;
      }),
    );
  });

  self.addEventListener('activate', (event) => {
    const retire = async (): Promise<void> => {
      const open = await clients.matchAll({ type: 'window', includeUncontrolled: true });
      const held = await holders();
      for (const name of await previous()) held[name] ??= open.map((client) => client.id);
      await sweep(held);
    };
    event.waitUntil(retire());
  });

  self.addEventListener('fetch', (event) => {
    const { request } = event;
    if (request.method !== 'GET') return;
    const url = new URL(request.url);
    url.hash = '';
    if (url.origin !== location.origin) return;
    const navigate = request.mode === 'navigate';
    if (navigate) event.waitUntil(holders().then(sweep));
    const found = (): [string, string] | undefined => {
      // A navigation to `/about` finds the build's `/about.html`.
      const candidates = navigate && !url.href.endsWith('/') ? [url.href, `${url.href}.html`] : [url.href];
      for (const href of candidates) {
        const name = files.get(href);
        if (name) return [name, href];
      }
      return undefined;
    };
    const answer = async (hit: [string, string]): Promise<Response> => {
      const stored = await caches.match(hit[1], { cacheName: hit[0] });
      return stored ? serve(stored, cacheStatusMember({ hit: true, detail: 'precache' }), 0, false) : fetch(request);
    };
    const hit = found();
    if (hit) event.respondWith(answer(hit));
    else if (!listed && ['script', 'style', 'worker'].includes(request.destination)) {
      // Until the previous deploys' files are listed (a worker just started), a chunk an old page
      // asks for waits for the list rather than going to a network that no longer has it.
      event.respondWith(
        loaded.then(() => {
          const late = found();
          return late ? answer(late) : fetch(request);
        }),
      );
    } else return;
    event.stopImmediatePropagation();
  });
}
