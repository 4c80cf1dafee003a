import { createStrata, memoryStore, type Strata } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import { redisBus } from '@strata/server/redis';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../../server/test/helpers/redis-server.js';
import manifest from '../../../sw/test/browser/fixtures/manifest.js';
import type { BridgePage } from './fixtures/bridge-page.js';
import { buildClient, startClientApp, type TestServer } from './helpers.js';

// Two server instances share a purge log on a real Redis. The pages are served by B (its purge
// stream); the purges are made on A. The data caches are the real libraries, bundled into the page.

let redis: RedisServer;
let a: Strata;
let b: Strata;
let server: TestServer;
let browser: Browser;
const pages: Record<'query' | 'swr', string> = { query: '', swr: '' };

beforeAll(async () => {
  redis = await startRedisServer();
  const stream = `bridges-${process.pid}`;
  const instance = () =>
    createStrata({ manifest, store: memoryStore(), bus: redisBus({ url: redis.url, stream, blockMs: 200 }) });
  a = instance();
  b = instance();
  [pages.query, pages.swr, { server, browser }] = await Promise.all([
    buildClient('./fixtures/query-page.ts'),
    buildClient('./fixtures/swr-page.ts'),
    startClientApp({ events: nodeListener(b, (request) => b.events(request)) }),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await a?.close();
  await b?.close();
  await redis?.stop();
});

const state = (page: Page) => page.evaluate(() => (globalThis as unknown as BridgePage).bridge.state());

describe.each([
  ['TanStack Query (query-core)', 'query'],
  ['SWR (with React)', 'swr'],
] as const)('the %s bridge in Chromium', (_, kind) => {
  it('a purge on instance A refetches the data in every tab served by B, exactly once, and purges nothing itself', async () => {
    const context = await browser.newContext();
    const id = `${kind}1`;
    const path = `/api/fresh/${id}`;
    try {
      server.client = pages[kind];
      const tabs: Page[] = [];
      for (let i = 0; i < 2; i++) {
        const page = await context.newPage();
        await page.goto(server.url);
        await page.evaluate(([p, t]) => (globalThis as unknown as BridgePage).startBridge(p, t), [
          path,
          `item:${id}`,
        ] as const);
        tabs.push(page);
      }
      for (const tab of tabs)
        await tab.waitForFunction(() => (globalThis as unknown as BridgePage).bridge.state().fetches === 1);
      await expect.poll(async () => (await b.stats()).sse.open).toBe(1); // one tab holds the stream
      const before = (await state(tabs[0] as Page)).data as { hit: number };

      const purge = await a.purge({ tags: [`item:${id}`] });
      for (const tab of tabs) {
        await tab.waitForFunction(() => {
          const s = (globalThis as unknown as BridgePage).bridge.state();
          return s.fetches === 2 && s.data !== undefined;
        });
      }
      // One more purge, of something else, is a marker: once every tab has it, the first purge's
      // work (and anything it could have set off) is behind us.
      await a.purge({ tags: ['item:marker'] });
      for (const tab of tabs)
        await tab.waitForFunction(() => (globalThis as unknown as BridgePage).bridge.state().purges === 2);
      for (const tab of tabs) {
        const s = await state(tab);
        expect(s.purges).toBe(2); // the two purges made on A, and no purge of the bridge's own
        expect(s.fetches).toBe(2); // the purged query refetched once; the marker touched nothing
        expect(s.invalidations).toBe(kind === 'query' ? 1 : 2); // SWR's mutate is called per purge, with a filter
        // The refetch went past the worker's emptied cache to the origin: a newer answer.
        expect((s.data as { hit: number }).hit).toBeGreaterThan(before.hit);
      }
      expect(purge.id).toBeTruthy();
    } finally {
      await context.close();
    }
  }, 60_000);
});
