import { gzipSync } from 'node:zlib';
import { buildServiceWorker } from '@strata/sw/vite';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, registerWorker } from './helpers/browser.js';
import { deploy, type Files, host, loadRoute, deployManifest as manifest, precacheNames } from './helpers/deploy.js';
import type { PageGlobals } from './helpers/page.js';

describe('precache from the Vite plugin, in Chromium', () => {
  let browser: Browser;
  let a: Files;
  let b: Files;
  const site = host();

  beforeAll(async () => {
    [browser, a, b] = await Promise.all([launchChromium(), deploy('A'), deploy('B'), site.listen()]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await site.close();
  });

  it('adds the deploy files, not more than 2 KB gzipped, to the worker', async () => {
    const plain = await buildServiceWorker({ manifest });
    const sw = String(a.get('/sw.js'));
    const withPrecache = gzipSync(sw).length;
    console.log(`worker: ${plain.gzipBytes} B gzipped without precache, ${withPrecache} B with this build's`);
    expect(sw).toContain('/assets/');
    expect(sw).toContain('/about.html');
    expect(withPrecache - plain.gzipBytes).toBeLessThanOrEqual(2048);
  });

  it('opens a page never visited while the site is offline, from the precache', async () => {
    site.files = a;
    site.offline = false;
    const context = await browser.newContext();
    try {
      await context.addCookies([{ name: 'session', value: 'alice', url: site.url }]);
      const page = await context.newPage();
      await page.goto(site.url);
      await registerWorker(page);
      // The page sent its cookie; the precache, fetching a page never visited, sent none.
      expect(site.cookies.get('/')).toBe('session=alice');
      expect(site.cookies.has('/about.html')).toBe(true);
      expect(site.cookies.get('/about.html')).toBeUndefined();
      site.offline = true;
      const response = await page.goto(`${site.url}/about`);
      expect(await page.textContent('#about')).toBe('about page');
      expect(response?.headers()['cache-status']).toMatch(/strata-sw; hit; detail=precache/);
      // The directory's index.html answers for the directory, and is stored under its URL too,
      // where a navigationFallback of '/' looks it up.
      await page.goto(site.url);
      expect(await page.title()).toBe('precache fixture: home');
      const stored = await page.evaluate(async () => {
        const { caches, location } = globalThis as unknown as PageGlobals;
        return (await caches.match(new URL('/', location.href).href)) !== undefined;
      });
      expect(stored).toBe(true);
    } finally {
      site.offline = false;
      await context.close();
    }
  }, 60_000);

  it("keeps the previous deploy's files while a page of it is open, then drops them", async () => {
    site.files = a;
    const context = await browser.newContext();
    try {
      const old = await context.newPage();
      await old.goto(site.url);
      await registerWorker(old);
      const [first] = await precacheNames(old);
      // Deploy B: A's files are gone from the host. A second tab brings B's worker in.
      site.files = b;
      const fresh = await context.newPage();
      await fresh.goto(site.url);
      await fresh.evaluate(async () => {
        const { navigator } = globalThis as unknown as PageGlobals;
        await (await navigator.serviceWorker.getRegistration())?.update();
      });
      await fresh.waitForFunction(
        async (name) => {
          const { caches } = globalThis as unknown as PageGlobals;
          const names = await caches.keys();
          return names.some((n) => /-precache:./.test(n) && n !== name);
        },
        first,
        { polling: 50 },
      );
      await fresh.reload(); // served by B's worker once it took over
      await fresh.waitForFunction(
        async () => {
          const { navigator } = globalThis as unknown as PageGlobals;
          return (await navigator.serviceWorker.getRegistration())?.active?.scriptURL !== undefined;
        },
        undefined,
        { polling: 50 },
      );
      // The old page lazily loads a route of its own build: its chunk comes from A's precache.
      expect(await loadRoute(old)).toBe('lazy route of deploy A');
      expect(await precacheNames(fresh)).toContain(first);
      // The old page goes; the next navigation finds no client of A and drops its files.
      await old.close();
      await fresh.reload();
      await fresh.waitForFunction(
        async (name) => {
          const { caches } = globalThis as unknown as PageGlobals;
          return !(await caches.keys()).includes(name as string);
        },
        first,
        { polling: 50 },
      );
      expect(await loadRoute(fresh)).toBe('lazy route of deploy B');
    } finally {
      await context.close();
    }
  }, 60_000);
});
