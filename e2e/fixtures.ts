import { type BrowserContext, test as base, expect, type Page } from '@playwright/test';
import type { StrataClient } from '@strata/client';
import { parseCacheStatus } from '../demo/src/layers.js';
import { type Stack, startStack } from './stack.js';

/** What one instance's `/api/v1/demo/counters` says: requests that reached its origin. */
export interface Counters {
  instance: string;
  origin: Record<string, number>;
  statements: number;
}

/** One API answer as the page's `fetch` saw it. */
export interface Seen {
  status: number;
  cacheStatus: string;
  xCache: string | null;
  body: string;
}

export interface Demo {
  stack: Stack;
  /** Requests that reached the origin for `route` (e.g. `GET /api/v1/users`), summed over instances. */
  originHits(route: string): Promise<number>;
  /** An admin API call on instance `i` (through Varnish for the first). */
  admin(i: number, path: string, body?: unknown): Promise<Response>;
  /** Drops every cached entry (server, CDN) and resets browsers: each test starts empty. */
  clearAll(): Promise<void>;
  /** A page of a new browser context at `url`, once the Strata client is ready and the worker controls it. */
  open(url: string, context?: BrowserContext): Promise<Page>;
}

export const test = base.extend<{ demo: Demo }, { stack: Stack }>({
  stack: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies as a pattern
    async ({}, use) => {
      const stack = await startStack();
      await use(stack);
      await stack.stop();
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  demo: async ({ stack, browser }, use) => {
    const contexts: BrowserContext[] = [];
    const admin = (i: number, path: string, body?: unknown) =>
      fetch(`${stack.entry(i)}/api/v1/cache${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const demo: Demo = {
      stack,
      async originHits(route) {
        let total = 0;
        for (const instance of stack.instances) {
          const counters = (await (await fetch(`${instance.url}/api/v1/demo/counters`)).json()) as Counters;
          total += counters.origin[route] ?? 0;
        }
        return total;
      },
      admin,
      async clearAll() {
        const response = await admin(0, '/clear-all', { confirm: 'clear-all' });
        expect(response.status, await response.text()).toBeLessThan(300);
      },
      async open(url, context) {
        const ctx = context ?? (await browser.newContext());
        if (!context) contexts.push(ctx);
        const page = await ctx.newPage();
        await page.goto(url);
        await waitForStrata(page);
        return page;
      },
    };
    await demo.clearAll();
    await use(demo);
    for (const context of contexts) await context.close();
  },
});

export { expect };

/** Waits until the page's Strata client is registered and the service worker controls the page. */
export async function waitForStrata(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.documentElement.dataset.strata === 'ready' && navigator.serviceWorker.controller !== null,
  );
}

/** `fetch(path)` in the page (so through its service worker), with what the test needs to see. */
export function pageFetch(page: Page, path: string, init: RequestInit = {}): Promise<Seen> {
  return page.evaluate(
    async ([path, init]) => {
      const response = await fetch(path, init);
      return {
        status: response.status,
        cacheStatus: response.headers.get('cache-status') ?? '',
        xCache: response.headers.get('x-cache'),
        body: await response.text(),
      };
    },
    [path, init] as const,
  );
}

/** The cache that answered, from `Cache-Status` (RFC 9211): the last member that is a hit. */
export function answeredBy(cacheStatus: string): string {
  return parseCacheStatus(cacheStatus).findLast((member) => member.params.get('hit') === true)?.cache ?? 'origin';
}

/** Cache Storage entries (any cache of this origin) whose URL contains `fragment`. */
export function swEntries(page: Page, fragment: string): Promise<string[]> {
  return page.evaluate(async (fragment) => {
    const found: string[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) if (request.url.includes(fragment)) found.push(request.url);
    }
    return found;
  }, fragment);
}

/**
 * Loads `path` twice in the page: the first answer comes from the origin (one more request there,
 * `Cache-Status` matching `chain`) and the worker stores it (an entry whose URL holds `fragment`);
 * the second comes from the worker with the same body. Returns the first.
 */
export async function originThenWorker(
  page: Page,
  path: string,
  fragment: string,
  chain: RegExp,
  originHits: () => Promise<number>,
): Promise<Seen> {
  const before = await originHits();
  const first = await pageFetch(page, path);
  expect(first.status).toBe(200);
  expect(answeredBy(first.cacheStatus)).toBe('origin');
  expect(first.cacheStatus).toMatch(chain);
  expect(await originHits()).toBe(before + 1);
  await expect.poll(() => swEntries(page, fragment)).toHaveLength(1);

  const second = await pageFetch(page, path);
  expect(answeredBy(second.cacheStatus)).toBe('strata-sw');
  expect(second.body).toBe(first.body);
  return first;
}

/** Deletes the Cache Storage entries whose URL contains `fragment`, leaving every other layer alone. */
export function evictFromBrowser(page: Page, fragment: string): Promise<number> {
  return page.evaluate(async (fragment) => {
    let deleted = 0;
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        if (request.url.includes(fragment) && (await cache.delete(request))) deleted++;
      }
    }
    return deleted;
  }, fragment);
}

/** Signs the page in as `username` through the app's own login screen. */
export async function signIn(page: Page, username: 'alice' | 'bob'): Promise<void> {
  await page.goto(new URL('/login', page.url()).toString());
  await waitForStrata(page);
  await page.getByRole('button', { name: new RegExp(`sign in as ${username}`, 'i') }).click();
  // The notice and the navigation may both say it.
  await expect(page.getByText(new RegExp(`signed in as ${username}`, 'i')).first()).toBeVisible();
}

export interface SeenPurge {
  id: string;
  tags: string[];
  keys: string[];
  evicted: number;
  /** `Date.now()` in the page when the client reported it (after the worker acknowledged it). */
  at: number;
}

/** Starts recording the purges (and resets) this page's Strata client applies. */
export async function recordPurges(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { e2ePurges: SeenPurge[]; strataDemo: { client: StrataClient } };
    w.e2ePurges = [];
    w.strataDemo.client.on('purge', (e) =>
      w.e2ePurges.push({ id: e.id, tags: e.tags, keys: e.keys, evicted: e.evicted, at: Date.now() }),
    );
    w.strataDemo.client.on('reset', (e) =>
      w.e2ePurges.push({ id: e.id, tags: ['*reset*'], keys: [], evicted: e.evicted, at: Date.now() }),
    );
  });
}

/** The purges recorded since `recordPurges`. */
export function purgesSeen(page: Page): Promise<SeenPurge[]> {
  return page.evaluate(() => (window as unknown as { e2ePurges: SeenPurge[] }).e2ePurges);
}

/** The bearer token of the account the page is signed in as (the app keeps it in localStorage). */
export function sessionToken(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    const saved = localStorage.getItem('strata-demo-session');
    return saved ? (JSON.parse(saved) as { token: string }).token : undefined;
  });
}
