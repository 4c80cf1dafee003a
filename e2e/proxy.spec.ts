import { randomBytes } from 'node:crypto';
import type { BrowserContext, Page } from '@playwright/test';
import { type RedisServer, startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { type DemoProcess, startDemo } from './demo-process.js';
import {
  answeredBy,
  test as base,
  type Counters,
  evictFromBrowser,
  expect,
  originThenWorker,
  pageFetch,
  purgesSeen,
  recordPurges,
  signIn,
  swEntries,
  waitForStrata,
} from './fixtures.js';
import { type ProxyProcess, startProxy } from './proxy-process.js';

/**
 * The proof that Strata needs nothing from the origin: the demo with `DEMO_CACHE=off` (no cache
 * headers, no purges, no tags) behind `strata proxy` with the demo's manifest. The headers, the
 * server cache, the purge stream and the service worker all come from the proxy.
 */
interface Proxied {
  origin: DemoProcess;
  proxy: ProxyProcess;
  redis: RedisServer;
  /** Requests that reached the origin for `route` (`GET /api/v1/users`). */
  originHits(route: string): Promise<number>;
  open(path: string): Promise<Page>;
}

const test = base.extend<{ proxied: Proxied }, { proxiedStack: Omit<Proxied, 'open'> }>({
  proxiedStack: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies as a pattern
    async ({}, use) => {
      const redis = await startRedisServer();
      const origin = await startDemo('origin', {
        DEMO_CACHE: 'off',
        DEMO_DELAY_MS: '20',
        DEMO_USERS: '200',
        DEMO_SECRET: 'strata-e2e',
        STRATA_ADMIN_TOKEN: randomBytes(12).toString('hex'),
      }).catch(async (error: unknown) => {
        await redis.stop();
        throw error;
      });
      const proxy = await startProxy([
        '--manifest',
        'demo/strata.manifest.ts',
        '--upstream',
        origin.url,
        '--redis-url',
        redis.url,
        '--admin-token',
        randomBytes(12).toString('hex'),
      ]).catch(async (error: unknown) => {
        await origin.stop();
        await redis.stop();
        throw error;
      });
      const originHits = async (route: string) => {
        const counters = (await (await fetch(`${origin.url}/api/v1/demo/counters`)).json()) as Counters;
        return counters.origin[route] ?? 0;
      };
      await use({ origin, proxy, redis, originHits });
      await proxy.stop();
      await origin.stop();
      await redis.stop();
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  proxied: async ({ proxiedStack, browser }, use) => {
    const contexts: BrowserContext[] = [];
    await use({
      ...proxiedStack,
      async open(path) {
        const context = await browser.newContext();
        contexts.push(context);
        const page = await context.newPage();
        await page.goto(`${proxiedStack.proxy.url}${path}`);
        await waitForStrata(page);
        return page;
      },
    });
    for (const context of contexts) await context.close();
  },
});

test('behind strata proxy, an origin that sends no cache headers gets them, and each layer answers in turn', async ({
  proxied,
}) => {
  // The origin itself says nothing about caching.
  const direct = await fetch(`${proxied.origin.url}/api/v1/users?perPage=5&page=2`);
  expect(direct.headers.get('cache-control')).toBeNull();
  expect(direct.headers.get('cache-status')).toBeNull();

  const page = await proxied.open('/dashboard');
  const path = '/api/v1/users?perPage=5&page=3';
  const route = 'GET /api/v1/users';
  const before = await proxied.originHits(route);

  // First load: the origin answers through the proxy, which stores it, and so does the worker;
  // the second load comes from the service worker, without the network.
  const first = await originThenWorker(
    page,
    path,
    'page=3',
    /strata; fwd=uri-miss; fwd-status=200; stored.*strata-sw; fwd=uri-miss/,
    () => proxied.originHits(route),
  );

  // Out of the browser's cache: the proxy's server cache has it.
  expect(await evictFromBrowser(page, 'page=3')).toBe(1);
  const third = await pageFetch(page, path);
  expect(answeredBy(third.cacheStatus)).toBe('strata');
  expect(third.xCache).toBe('HIT');
  expect(third.body).toBe(first.body);

  // Three answers, one trip to the origin.
  expect(await proxied.originHits(route)).toBe(before + 1);
});

test('an edit through the proxy is read back at once in the writing tab and reaches the worker of another tab', async ({
  proxied,
}) => {
  const id = 9;
  const record = `/api/v1/users/${id}`;
  // Tab 2 shows the user, with the record in its service worker.
  const tab2 = await proxied.open(`/users/${id}`);
  await tab2.reload();
  await waitForStrata(tab2);
  const oldName = (await tab2.getByTestId('user-name').textContent()) ?? '';
  expect(oldName).not.toBe('');
  await expect.poll(() => swEntries(tab2, record)).toHaveLength(1);
  await recordPurges(tab2);
  // The proxy's server cache holds it too.
  const warm = await fetch(`${proxied.proxy.url}${record}`);
  await warm.arrayBuffer();
  expect((await fetch(`${proxied.proxy.url}${record}`)).headers.get('x-cache')).toBe('HIT');

  // Tab 1 edits the user through the proxy.
  const tab1 = await proxied.open('/users');
  await signIn(tab1, 'alice');
  await tab1.goto(`${proxied.proxy.url}/users/${id}/edit`);
  const newName = `Proxied ${Date.now()}`;
  await tab1.getByLabel('Name').fill(newName);
  const saved = tab1.waitForResponse((r) => r.url().endsWith(record) && r.request().method() === 'PUT');
  await tab1.getByRole('button', { name: 'Save' }).click();
  expect((await saved).status()).toBe(200);

  // Read back at once in the writing tab: its worker and the proxy dropped the record on the write.
  await expect(tab1.getByTestId('user-name')).toHaveText(newName);
  const readBack = await pageFetch(tab1, record);
  expect(JSON.parse(readBack.body).name).toBe(newName);

  // The other tab's worker hears of it over the proxy's purge stream (the write rules' tags and the
  // URL, in one event) and evicts the record. The page re-renders on that purge and may store a
  // fresh copy at once, so the eviction is proven by the worker's count, and the copy by its content.
  const named = (p: { tags: string[]; keys: string[] }) =>
    p.tags.includes(`user:${id}`) || p.keys.some((key) => new URL(key, proxied.proxy.url).pathname === record);
  await expect.poll(async () => (await purgesSeen(tab2)).some(named)).toBe(true);
  const purge = (await purgesSeen(tab2)).find(named);
  expect(purge?.evicted).toBeGreaterThanOrEqual(1);
  await expect(tab2.getByTestId('user-name')).toHaveText(newName);
  const seen = await pageFetch(tab2, record);
  expect(JSON.parse(seen.body).name).toBe(newName);
  // And no reader of the proxy gets the old record.
  const shared = await fetch(`${proxied.proxy.url}${record}`);
  expect(((await shared.json()) as { name: string }).name).toBe(newName);
});
