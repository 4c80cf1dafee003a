import { browserCache, cdnCache, defineManifest, fullCache, noStore, serverCache } from '@strata/policy';

const DAY = 86_400;

/**
 * The demo's cache policy: imported by the server (headers, server cache, purges) and inlined
 * into the service worker by the Vite plugin. The seed's path policies, plus the routes a real app
 * has around them (the page shell, auth, the admin API).
 */
export default defineManifest({
  version: '1',
  routes: [
    // Hashed build output: a new build is a new URL, so it never needs purging.
    { match: '/static/*', policy: cdnCache(7 * DAY, { immutable: true }) },
    { match: '/sw.js', policy: noStore() },
    { match: '/api/v1/auth/*', policy: noStore() },
    { match: '/api/v1/cache/*', policy: noStore() },
    { match: '/api/v1/demo/*', policy: noStore() },
    // The signed-in user's own record: cached per user (server and service worker), never shared.
    { match: '/api/v1/me', policy: serverCache(60, { scope: 'private', tags: ['me'], staleIfError: DAY }) },
    // The seed's `redis_cache(600)`, also stored by the CDN so that one purge visibly crosses
    // every layer: the list is tagged `users`, each record `user:{id}`.
    { match: '/api/v1/users', policy: fullCache(600, { tags: ['users'], staleIfError: DAY }) },
    { match: '/api/v1/users/:id', policy: fullCache(600, { tags: ['user:{id}'], staleIfError: DAY }) },
    // The write rule: a saved edit purges the record and every list and aggregate (`users`), at
    // every level, in one event with the query cache's table tag; the editing tab's worker drops
    // them before the answer reaches the page.
    { match: '/api/v1/users/:id', methods: ['PUT'], policy: noStore(), invalidates: ['user:{id}', 'users'] },
    // Aggregates over every user, so any edit (`users`) invalidates them. The answer names who
    // asked, hence `Vary: Authorization`; a CDN may still share it per token (`public`).
    {
      match: '/api/v1/dashboard',
      policy: fullCache(300, { tags: ['users', 'dashboard'], staleWhileRevalidate: 60, vary: ['authorization'] }),
    },
    // The page shell: served by the service worker, revalidated in the background, and kept
    // for a week so the app opens offline.
    ...['/', '/users', '/users/:id', '/users/:id/edit', '/dashboard', '/login', '/admin'].map((match) => ({
      match,
      policy: browserCache(60, { staleWhileRevalidate: DAY, staleIfError: 7 * DAY }),
    })),
  ],
});
