import { createStrata, type PurgeResult, type Strata } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../../../sw/test/browser/fixtures/manifest.js';
import { type ClientPage, entries, get, startClientApp, type TestServer, waitForEntries } from './helpers.js';

// The whole browser chain against the real server: strata.purge() on @strata/server → its purge
// stream (SSE) → @strata/client in the page → the service worker evicts.

let strata: Strata;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  // The user is the bearer token's `<user>.` prefix, as the fixture origin reads it.
  const partition = (request: Request) => /^Bearer ([^.\s]+)\./.exec(request.headers.get('authorization') ?? '')?.[1];
  strata = createStrata({ manifest, partition });
  ({ server, browser } = await startClientApp({ events: nodeListener(strata, (request) => strata.events(request)) }));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await strata?.close();
});

describe('@strata/client with the real @strata/server purge stream', () => {
  it('a purge made on the server evicts the tagged entry from the service worker, and resumes after a reload', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(server.url);
      const register = () =>
        page.evaluate(async () => {
          const g = globalThis as unknown as ClientPage;
          g.seen = [];
          g.strata = await g.StrataClient.registerStrata({ swUrl: '/sw.js', events: '/strata/events' });
          g.strata.on('purge', (event) => g.seen.push({ type: 'purge', ...event }));
        });
      await register();
      await expect.poll(async () => (await strata.stats()).sse.open).toBe(1);

      await get(page, '/api/fresh/r1');
      await waitForEntries(page, '/api/fresh/r1', 1);
      const purge = await strata.purge({ tags: ['item:r1'] });
      await page.waitForFunction((id) => (globalThis as unknown as ClientPage).seen.some((e) => e.id === id), purge.id);
      expect(await entries(page, '/api/fresh/r1')).toBe(0);

      // A purge made while the page is away is applied when it comes back (resume from the last id).
      await get(page, '/api/fresh/r2');
      await waitForEntries(page, '/api/fresh/r2', 1);
      await page.goto('about:blank');
      await expect.poll(async () => (await strata.stats()).sse.open).toBe(0);
      const missed = await strata.purge({ tags: ['item:r2'] });
      await page.goto(server.url);
      await register();
      await page.waitForFunction(
        (id) => (globalThis as unknown as ClientPage).seen.some((e) => e.id === id),
        missed.id,
      );
      expect(await entries(page, '/api/fresh/r2')).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('a soft purge made on the server reaches the worker as soft: the entry stays, served stale once', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(server.url);
      await page.evaluate(async () => {
        const g = globalThis as unknown as ClientPage;
        g.seen = [];
        g.strata = await g.StrataClient.registerStrata({ swUrl: '/sw.js', events: '/strata/events' });
        g.strata.on('purge', (event) => g.seen.push({ type: 'purge', ...event }));
      });
      await expect.poll(async () => (await strata.stats()).sse.open).toBe(1);
      await get(page, '/api/swr/soft1');
      await waitForEntries(page, '/api/swr/soft1', 1);
      const purge = await strata.purge({ tags: ['item:soft1'], mode: 'soft' });
      await page.waitForFunction((id) => (globalThis as unknown as ClientPage).seen.some((e) => e.id === id), purge.id);
      expect(await entries(page, '/api/swr/soft1')).toBe(1);
      const stale = await get(page, '/api/swr/soft1');
      expect(stale.headers['cache-status']).toMatch(/strata-sw; fwd=stale; ttl=-\d+; detail=soft-purge$/);
    } finally {
      await context.close();
    }
  });

  it('a private purge reaches its owner’s browser, whose stream carries her token, and evicts there; another user’s browser never hears of it', async () => {
    const contexts: BrowserContext[] = [];
    /** A browser signed in as `user`: the stream sends her bearer token, her /api/me is stored. */
    const signIn = async (user: string): Promise<Page> => {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(server.url);
      const authorization = `Bearer ${user}.secret-of-${user}`;
      await page.evaluate(
        async ([u, token]) => {
          const g = globalThis as unknown as ClientPage;
          g.seen = [];
          g.strata = await g.StrataClient.registerStrata({
            swUrl: '/sw.js',
            events: '/strata/events',
            headers: () => ({ authorization: token }),
          });
          g.strata.on('purge', (event) => g.seen.push({ type: 'purge', ...event }));
          await g.strata.setUser(u);
        },
        [user, authorization] as const,
      );
      expect((await get(page, '/api/me', { headers: { authorization } })).body?.user).toBe(user);
      await waitForEntries(page, '/api/me', 1);
      return page;
    };
    const saw = (page: Page, id: string) =>
      page.waitForFunction((i) => (globalThis as unknown as ClientPage).seen.some((e) => e.id === i), id);
    try {
      const alice = await signIn('alice');
      const bob = await signIn('bob');
      const mine = (await strata.purge({ tags: ['me'], partition: 'alice' })) as PurgeResult;
      await saw(alice, mine.id);
      expect(await entries(alice, '/api/me')).toBe(0);
      // A public purge after it reaches bob: by then the private one would have too.
      const later = (await strata.purge({ tags: ['nothing-stored'] })) as PurgeResult;
      await saw(bob, later.id);
      const bobSeen = await bob.evaluate(() => (globalThis as unknown as ClientPage).seen.map((e) => e.id));
      expect(bobSeen).not.toContain(mine.id);
      expect(await entries(bob, '/api/me')).toBe(1);
    } finally {
      for (const context of contexts) await context.close();
    }
  });
});
