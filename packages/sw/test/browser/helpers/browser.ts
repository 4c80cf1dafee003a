import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { PageGlobals } from './page.js';

/** The system Chromium and its flags (docs/environment.md#chromium: never `playwright install`). */
export const chromiumOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export function launchChromium(): Promise<Browser> {
  return chromium.launch(chromiumOptions);
}

/** Opens the fixture page and waits until the service worker at /sw.js controls it. */
export async function controlledPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await registerWorker(page);
  return page;
}

/** Registers `script` (scope `/`) from the page and waits until a worker controls it. */
export async function registerWorker(page: Page, script = '/sw.js'): Promise<void> {
  await page.evaluate(async (url) => {
    const { navigator } = globalThis as unknown as PageGlobals;
    await navigator.serviceWorker.register(url, { scope: '/' });
    if (navigator.serviceWorker.controller) return;
    await new Promise<void>((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
    );
  }, script);
}

/**
 * Resolves once the worker controlling the page is `activated`. The controller changes when a new
 * worker starts activating; its activate handler (version drop, reconciliation, the precache's
 * retiring of older deploys) is done only then, and a fetch may reach it before.
 */
export async function waitForActivated(page: Page): Promise<void> {
  await page.waitForFunction(
    () => (globalThis as unknown as PageGlobals).navigator.serviceWorker.controller?.state === 'activated',
    undefined,
    { polling: 25 },
  );
}

/** Posts a message to the controlling worker and resolves with its reply on the MessageChannel. */
export function ask<T = Record<string, unknown>>(page: Page, message: unknown): Promise<T> {
  return page.evaluate(
    (msg) =>
      new Promise<T>((resolve, reject) => {
        const { navigator, MessageChannel } = globalThis as unknown as PageGlobals;
        const worker = navigator.serviceWorker.controller;
        if (!worker) return reject(new Error('no controlling service worker'));
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => resolve(event.data as T);
        worker.postMessage(msg, [channel.port2]);
      }),
    message,
  );
}

/** Tells the worker who is signed in (`strata:set-user`); rejects unless it acknowledges that user. */
export async function setUser(page: Page, user: string | null): Promise<void> {
  const reply = await ask<{ type?: unknown; user?: unknown }>(page, { type: 'strata:set-user', user });
  if (reply.type !== 'strata:user' || reply.user !== user) throw new Error(`set-user: ${JSON.stringify(reply)}`);
}

export interface Fetched {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown> | null;
}

/** `fetch` from the page; the JSON body parsed. Rejects when the fetch does. */
export function get(page: Page, path: string, init: { headers?: Record<string, string>; method?: string } = {}) {
  return page.evaluate(
    async ([p, i]) => {
      const response = await fetch(p, i);
      const text = await response.text();
      let body: Record<string, unknown> | null = null;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = null;
      }
      return { status: response.status, headers: Object.fromEntries(response.headers), body } as Fetched;
    },
    [path, init] as const,
  );
}

/**
 * How many entries Cache Storage holds for `path`, every Vary variant and partition counted.
 * Variants of a policy with `vary` are stored under the URL plus a `strata-vary` parameter (see
 * `cacheKey` in src/entry.ts: Chromium keeps one entry per key URL).
 */
export async function entries(page: Page, path: string): Promise<number> {
  return ((await page.evaluate(countEntries, [path, 0] as const)) as { count: number }).count;
}

/** Resolves once Cache Storage holds at least `count` entries for `path`. */
export async function waitForEntries(page: Page, path: string, count: number): Promise<void> {
  await page.waitForFunction(countEntries, [path, count] as const, { polling: 25 });
}

/** Runs in the page: the entries for `path` as `{ count }`, or false while there are fewer than `atLeast`. */
async function countEntries([path, atLeast]: readonly [string, number]): Promise<{ count: number } | false> {
  const { caches, location } = globalThis as unknown as PageGlobals;
  const target = new URL(path, location.href).href;
  let count = 0;
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) {
      const url = new URL(request.url);
      url.searchParams.delete('strata-vary');
      if (url.href === target) count++;
    }
  }
  return count >= atLeast && { count };
}

/** One Cache Storage entry as a script of the origin reads it. */
export interface StoredEntry {
  cache: string;
  url: string;
  requestHeaders: [string, string][];
  responseHeaders: [string, string][];
}

/** Everything Cache Storage holds, read from the page as any later script of the origin could. */
export function storedEntries(page: Page): Promise<StoredEntry[]> {
  return page.evaluate(async () => {
    const { caches } = globalThis as unknown as PageGlobals;
    const all: StoredEntry[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request, { ignoreVary: true });
        all.push({
          cache: name,
          url: request.url,
          requestHeaders: [...request.headers],
          responseHeaders: [...(response?.headers ?? new Headers())],
        });
      }
    }
    return all;
  });
}

/** Whether Cache Storage holds any entry for `path`. */
export async function hasEntry(page: Page, path: string): Promise<boolean> {
  return (await entries(page, path)) > 0;
}

/** Moves the test worker's clock forward (see fixtures/sw.ts). */
export async function advance(page: Page, seconds: number): Promise<void> {
  await ask(page, { type: 'test:clock', advance: seconds * 1000 });
}

/** Route stats from the worker. */
export async function stats(page: Page): Promise<Record<string, Record<string, number>>> {
  return (await ask<{ routes: Record<string, Record<string, number>> }>(page, { type: 'strata:stats' })).routes;
}

/** Resolves when the worker's counter for `route` reaches `at least`. */
export async function waitForStat(page: Page, route: string, counter: string, atLeast: number): Promise<void> {
  await page.waitForFunction(
    ([r, c, n]) =>
      new Promise<boolean>((resolve) => {
        const { navigator, MessageChannel } = globalThis as unknown as PageGlobals;
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => {
          const routes = (event.data as { routes?: Record<string, Record<string, number>> }).routes;
          resolve((routes?.[r]?.[c] ?? 0) >= n);
        };
        navigator.serviceWorker.controller?.postMessage({ type: 'strata:stats' }, [channel.port2]);
      }),
    [route, counter, atLeast] as const,
    { polling: 25 },
  );
}
