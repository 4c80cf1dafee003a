import { fileURLToPath } from 'node:url';
import type { RegisterOptions, StrataClient } from '@strata/client';
import { buildServiceWorker } from '@strata/sw/vite';
import type { Browser, Page } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import manifest from '../../../sw/test/browser/fixtures/manifest.js';
import { launchChromium } from '../../../sw/test/browser/helpers/browser.js';
import type { PageGlobals } from '../../../sw/test/browser/helpers/page.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../../../sw/test/browser/helpers/server.js';

// The fixture app, server and worker of the @strata/sw browser suites are reused: the client is
// tested against the real worker.
export {
  controlledPage,
  entries,
  get,
  launchChromium,
  waitForActivated,
  waitForEntries,
} from '../../../sw/test/browser/helpers/browser.js';
export {
  deploy,
  type Files,
  host,
  loadRoute,
  precacheNames,
} from '../../../sw/test/browser/helpers/deploy.js';
export type { PageGlobals } from '../../../sw/test/browser/helpers/page.js';
export { startTestServer, type TestServer } from '../../../sw/test/browser/helpers/server.js';
export const swFixture = (name: string): string =>
  fileURLToPath(new URL(`../../../sw/test/browser/fixtures/${name}`, import.meta.url));

/**
 * The page client as a classic script defining `StrataClient`, built from source; or, with
 * `entry`, a page script of the client's tests (with the libraries it imports).
 */
export async function buildClient(entry = '../../src/index.ts'): Promise<string> {
  const conditions = ['strata-source', 'browser', 'module', 'import', 'default'];
  const output = (await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions },
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      write: false,
      minify: false,
      lib: {
        entry: fileURLToPath(new URL(entry, import.meta.url)),
        formats: ['iife'],
        name: 'StrataClient',
      },
    },
  })) as Rolldown.RolldownOutput[];
  return output[0]?.output[0].code ?? '';
}

/** What the client tests read and write on the page's global object. */
export interface ClientPage {
  StrataClient: { registerStrata(options: RegisterOptions): Promise<StrataClient> };
  strata: StrataClient;
  seen: { type: string; id?: string; evicted?: number; reason?: string }[];
}

/** Registers the client on an open page, recording every client event in `seen`. */
export async function startClient(page: Page, updates: 'auto' | 'prompt' = 'auto'): Promise<void> {
  await page.evaluate(async (updates) => {
    const g = globalThis as unknown as ClientPage;
    g.seen = [];
    g.strata = await g.StrataClient.registerStrata({
      swUrl: '/sw.js',
      events: '/strata/events',
      reconnect: { initialDelay: 50, maxDelay: 400 },
      updates,
    });
    for (const type of ['purge', 'reset', 'offline', 'update', 'waiting'] as const) {
      g.strata.on(type, (event) => g.seen.push({ type, ...event }));
    }
  }, updates);
}

/** How many `type` events the page's client has emitted. */
export const seenOf = (page: Page, type: string): Promise<number> =>
  page.evaluate((t) => (globalThis as unknown as ClientPage).seen.filter((e) => e.type === t).length, type);

/** How many times each page has loaded since now (reloads), kept up to date. */
export function countLoads(pages: Page[]): number[] {
  const loads = pages.map(() => 0);
  for (const [i, page] of pages.entries()) {
    page.on('load', () => {
      loads[i] = (loads[i] ?? 0) + 1;
    });
  }
  return loads;
}

/** Has the browser check /sw.js for a new worker now. */
export async function updateWorker(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const { navigator } = globalThis as unknown as PageGlobals;
    await (await navigator.serviceWorker.getRegistration())?.update();
  });
}

/** Resolves when the page's client has emitted `type` (with this id, if given). */
export async function waitForEvent(page: Page, type: string, id?: string): Promise<void> {
  await page.waitForFunction(
    ([t, i]) => (globalThis as unknown as ClientPage).seen.some((e) => e.type === t && (i === undefined || e.id === i)),
    [type, id] as const,
    { polling: 25 },
  );
}

/** Calls the page client's `applyUpdate()`. */
export const applyUpdate = (page: Page): Promise<boolean> =>
  page.evaluate(() => (globalThis as unknown as ClientPage).strata.applyUpdate());

/** `applyUpdate()` in `by`, then waits until each of `pages` has reloaded; resolves with what it returned. */
export async function switchTabs(pages: Page[], by: Page): Promise<boolean> {
  const reloaded = pages.map((page) => page.waitForEvent('load'));
  const applied = await applyUpdate(by);
  await Promise.all(reloaded);
  return applied;
}

/** The fixture app served with the built worker and client, and a Chromium to open it in. */
export async function startClientApp(
  options: TestServerOptions = {},
): Promise<{ server: TestServer; browser: Browser }> {
  const [sw, client, server, browser] = await Promise.all([
    buildServiceWorker({ manifest: swFixture('manifest.ts'), sw: swFixture('sw.ts'), root: swFixture('') }),
    buildClient(),
    startTestServer(manifest, options),
    launchChromium(),
  ]);
  server.sw = sw.code;
  server.client = client;
  return { server, browser };
}
