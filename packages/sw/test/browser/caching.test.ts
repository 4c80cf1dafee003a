import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { advance, entries, get, hasEntry, stats, waitForEntries, waitForStat } from './helpers/browser.js';
import type { PageGlobals } from './helpers/page.js';
import { workerSuite } from './helpers/suite.js';

const { session, unique, fill, server } = workerSuite();

/** A path under `prefix` stored in the worker; then the origin moves to version 2 and the worker's clock by `seconds`. */
/** Runs in the page: whether Cache Storage holds `path` with the origin's `version`. */
async function storedVersion([path, version]: readonly [string, number]): Promise<boolean> {
  const { caches, location } = globalThis as unknown as PageGlobals;
  const stored = await caches.match(new URL(path, location.href).href);
  return stored !== undefined && ((await stored.json()) as { version?: number }).version === version;
}

async function storedThenAged(page: Page, prefix: string, seconds: number) {
  const path = unique(prefix);
  const route = server().api(path);
  await fill(page, path);
  route.version = 2;
  await advance(page, seconds);
  return { path, route };
}

describe('the Strata service worker in Chromium: caching by the manifest', () => {
  it('serves a fresh entry from Cache Storage without the network, with Cache-Status and Age', async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/');
      const first = await fill(page, path);
      expect(first.headers['cache-status']).toBe(
        'origin; fwd=uri-miss, strata-sw; fwd=uri-miss; fwd-status=200; stored',
      );
      const hit = await get(page, path);
      expect(server().api(path).hits).toBe(1);
      expect(hit.body).toEqual(first.body);
      // RFC 9211: the upstream member first, ours appended; `hit` bare, `ttl` an integer.
      expect(hit.headers['cache-status']).toMatch(/^origin; fwd=uri-miss, strata-sw; hit; ttl=(60|5\d)$/);
      expect(hit.headers.age).toMatch(/^[01]$/);
      expect(hit.headers['x-strata']).toBeUndefined();
    });
  });

  it("drops the server's X-Cache and X-Cache-Level from a worker hit; Cache-Status keeps the server's member, then strata-sw", async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/');
      const route = server().api(path);
      // What @strata/server sends on a miss it stored in its memory store.
      route.headers = { 'x-cache': 'MISS', 'x-cache-level': 'MEMORY', 'cache-status': 'strata; fwd=uri-miss; stored' };
      const first = await fill(page, path);
      // From the network, they describe this answer and pass through.
      expect(first.headers['x-cache']).toBe('MISS');
      expect(first.headers['x-cache-level']).toBe('MEMORY');
      const hit = await get(page, path);
      expect(route.hits).toBe(1);
      expect(hit.headers['x-cache']).toBeUndefined();
      expect(hit.headers['x-cache-level']).toBeUndefined();
      expect(hit.headers['cache-status']).toMatch(/^strata; fwd=uri-miss; stored, strata-sw; hit; ttl=(60|5\d)$/);
    });
  });

  it('answers HEAD from the stored GET', async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/');
      await fill(page, path);
      const head = await get(page, path, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers['cache-status']).toMatch(/strata-sw; hit; ttl=/);
      expect(server().api(path).hits).toBe(1);
    });
  });

  it('stale within stale-while-revalidate: serves the stale copy and revalidates once in the background', async () => {
    await session(async (page) => {
      const { path, route } = await storedThenAged(page, '/api/swr/', 90); // ttl 60, staleWhileRevalidate 120
      const held = route.hold();
      const [a, b] = await Promise.all([get(page, path), get(page, path)]);
      for (const stale of [a, b]) {
        expect(stale.body?.version).toBe(1);
        expect(stale.headers['cache-status']).toMatch(/strata-sw; fwd=stale; ttl=-3\d; detail=stale-while-revalidate$/);
      }
      await held.arrived;
      held.release();
      await waitForStat(page, '/api/swr/:id', 'revalidated', 1);
      // The worker counts the revalidation once Cache Storage has taken the new copy; the page
      // sees the same storage, so this only waits out a write that is not yet visible.
      await page.waitForFunction(storedVersion, [path, 2] as const, { polling: 25, timeout: 5_000 });
      const fresh = await get(page, path);
      // On a failure, say what answered: the stale copy again (Cache-Status), or the network.
      const answered = `cache-status ${fresh.headers['cache-status']}, ${route.hits} origin hits, ${await entries(page, path)} entries`;
      expect(fresh.body?.version, answered).toBe(2);
      expect(fresh.headers['cache-status']).toMatch(/strata-sw; hit/);
      expect(route.hits).toBe(2); // the fill and one revalidation for both stale reads
    });
  });

  it('past every window goes to the network, with no-cache, although the HTTP cache still holds a fresh copy', async () => {
    await session(async (page) => {
      // The origin said max-age=60 in real time, which has not passed.
      const { path, route } = await storedThenAged(page, '/api/fresh/', 61);
      const refetched = await get(page, path);
      expect(route.hits).toBe(2);
      expect(refetched.body?.version).toBe(2);
      expect(refetched.headers['cache-status']).toMatch(/strata-sw; fwd=stale; fwd-status=200; ttl=-\d; stored$/);
    });
  });

  it('stale-if-error: a stale copy answers when the network is down (offline)', async () => {
    await session(async (page, context) => {
      const path = unique('/api/sie/');
      await fill(page, path);
      await advance(page, 120); // ttl 60, staleIfError 600
      await context.setOffline(true);
      const stale = await get(page, path);
      expect(stale.status).toBe(200);
      expect(stale.body?.version).toBe(1);
      expect(stale.headers['cache-status']).toMatch(/strata-sw; fwd=stale; ttl=-6\d; detail=stale-if-error$/);
      expect((await stats(page))['/api/sie/:id']?.['error-fallback']).toBe(1);
      await advance(page, 600); // beyond the stale-if-error window
      await expect(get(page, path)).rejects.toThrow(/Failed to fetch/);
    });
  });

  it('navigationFallback: offline, a page never visited opens the stored shell; other requests still fail', async () => {
    await session(async (page, context) => {
      const base = server().origin;
      // Before the shell is stored there is nothing to fall back on.
      await context.setOffline(true);
      await expect(page.goto(`${base}/app/early`)).rejects.toThrow(/ERR_/);
      await context.setOffline(false);
      await page.goto(`${base}/app/shell`);
      await waitForEntries(page, '/app/shell', 1);

      await context.setOffline(true);
      const response = await page.goto(`${base}/app/never-visited`);
      expect(response?.status()).toBe(200);
      expect(await page.locator('#shell').textContent()).toBe('app shell served for /app/shell');
      expect(response?.headers()['cache-status']).toMatch(/strata-sw; fwd=uri-miss; detail=navigation-fallback$/);
      // Only navigations: a fetch of the same URL is still a network error.
      await expect(get(page, '/app/never-visited')).rejects.toThrow(/Failed to fetch/);
    });
  });

  it('stale-if-error: a stale copy answers a 503 from the origin, a 501 passes; beyond the window the 503 passes', async () => {
    await session(async (page) => {
      const path = unique('/api/sie/');
      const route = server().api(path);
      await fill(page, path);
      await advance(page, 120);
      // RFC 5861 §4: 501 is not one of the statuses stale-if-error covers.
      route.failWith = 501;
      const passed = await get(page, path);
      expect(passed.status).toBe(501);
      expect(passed.headers['cache-status']).toMatch(/strata-sw; fwd=stale; fwd-status=501; ttl=-6\d$/);
      route.failWith = 503;
      const stale = await get(page, path);
      expect(route.hits).toBe(3); // the requests did go to the origin
      expect(stale.status).toBe(200);
      expect(stale.headers['cache-status']).toMatch(
        /strata-sw; fwd=stale; fwd-status=503; ttl=-6\d; detail=stale-if-error$/,
      );
      await advance(page, 600);
      const failed = await get(page, path);
      expect(failed.status).toBe(503);
      expect(failed.headers['cache-status']).toMatch(/strata-sw; fwd=stale; fwd-status=503; ttl=-/);
    });
  });

  it('mustRevalidate never serves stale: not on a 500, not offline', async () => {
    await session(async (page, context) => {
      const path = unique('/api/must/');
      const route = server().api(path);
      await fill(page, path);
      expect((await get(page, path)).headers['cache-status']).toMatch(/strata-sw; hit/);
      route.failWith = 500;
      await advance(page, 61);
      expect((await get(page, path)).status).toBe(500);
      await context.setOffline(true);
      await expect(get(page, path)).rejects.toThrow(/Failed to fetch/);
    });
  });

  it('leaves routes without the browser level, and noStore routes, to the network', async () => {
    await session(async (page) => {
      for (const path of [unique('/api/server-only/'), unique('/api/nostore/')]) {
        await get(page, path);
        const second = await get(page, path);
        expect(server().api(path).hits).toBe(2);
        expect(second.headers['cache-status']).toBe('origin; fwd=uri-miss');
      }
      expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).caches.keys())).toEqual([]);
    });
  });

  it('expires by age off the hit path: a write after the windows have passed removes the dead entry', async () => {
    await session(async (page) => {
      const old = unique('/api/fresh/');
      await fill(page, old);
      await advance(page, 61); // /api/fresh lives 60 s (no stale windows)
      await fill(page, unique('/api/fresh/')); // expiration runs after writes
      await page.waitForFunction(
        async (p) => {
          const { caches } = globalThis as unknown as PageGlobals;
          return (await caches.match(p)) === undefined;
        },
        old,
        { polling: 25 },
      );
      expect(server().api(old).hits).toBe(1);
    });
  });

  it('on QuotaExceededError evicts the oldest entries of the cache, retries, and still answers the page', async () => {
    await session(async (page, context) => {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: server().origin, quotaSize: 1_500_000 });
      const paths = [1, 2, 3, 4, 5, 6].map(() => unique('/api/big/'));
      for (const path of paths.slice(0, 5)) await fill(page, path); // 256 KB each: about 1.3 MB
      const last = paths[5] as string;
      const response = await get(page, last); // its put exceeds the quota
      expect(response.status).toBe(200);
      expect(String(response.body?.pad).length).toBe(256 * 1024);
      await waitForEntries(page, last, 1);
      // Five entries, the oldest quarter rounded down (one) at least, went before the retry.
      expect(await hasEntry(page, paths[0] as string)).toBe(false);
      expect(await hasEntry(page, paths[4] as string)).toBe(true);
    });
  });
});
