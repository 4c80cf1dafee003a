import { buildServiceWorker } from '@strata/sw/vite';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from '../../../sw/test/browser/fixtures/manifest.js';
import {
  applyUpdate,
  type ClientPage,
  countLoads,
  entries,
  get,
  type PageGlobals,
  seenOf,
  startClient,
  startClientApp,
  switchTabs,
  type TestServer,
  updateWorker,
  waitForEntries,
  waitForEvent,
} from './helpers.js';

// The purge stream in these tests is a stand-in for @strata/server's (see the sw suite's test
// server): same wire format, replay from `?since=`, `event: reset` when the id is too old.

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  ({ server, browser } = await startClientApp());
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function withContext(run: (context: BrowserContext) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    await run(context);
  } finally {
    await context.close();
  }
}

/** Opens the app and registers the client, recording every client event in `seen`. */
async function openApp(context: BrowserContext, updates: 'auto' | 'prompt' = 'auto'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(server.url);
  await startClient(page, updates);
  return page;
}

const isLeader = (page: Page): Promise<boolean> =>
  page.evaluate(() => (globalThis as unknown as ClientPage).strata.leader);

/** The one page that leads, once exactly one does. */
async function leaderOf(pages: Page[]): Promise<Page> {
  for (;;) {
    const flags = await Promise.all(pages.map(isLeader));
    const leaders = pages.filter((_, i) => flags[i]);
    if (leaders.length > 1) throw new Error(`${leaders.length} tabs lead at once`);
    if (leaders[0]) return leaders[0];
    await pages[0]?.waitForFunction(() => true); // yield a round trip, then look again
  }
}

describe('@strata/client in Chromium', () => {
  it('forwards stream purges to the worker, and resumes after a reload from the last applied id (SSE from a test server)', async () => {
    await withContext(async (context) => {
      const before = server.sse.total;
      const page = await openApp(context);
      await server.sse.waitFor((s) => s.total === before + 1 && s.open === 1);
      expect(server.sse.since.at(-1)).toBeNull(); // first visit: no resume point

      await get(page, '/api/fresh/c1');
      await waitForEntries(page, '/api/fresh/c1', 1);
      const id = server.sse.publish({ data: { tags: ['item:c1'], keys: [] } });
      await waitForEvent(page, 'purge', id);
      expect(await entries(page, '/api/fresh/c1')).toBe(0);
      const seen = await page.evaluate(() => (globalThis as unknown as ClientPage).seen);
      expect(seen).toContainEqual({ type: 'purge', id, tags: ['item:c1'], keys: [], evicted: 1 });

      await page.reload();
      await page.evaluate(() =>
        (globalThis as unknown as ClientPage).StrataClient.registerStrata({
          swUrl: '/sw.js',
          events: '/strata/events',
        }),
      );
      await server.sse.waitFor((s) => s.total === before + 2 && s.open === 1);
      expect(server.sse.since.at(-1)).toBe(id);
    });
  });

  it('eight tabs hold exactly one purge stream, all their fetches complete, and the stream moves on when the leader closes, missing no purge (SSE from a test server)', async () => {
    await withContext(async (context) => {
      const before = server.sse.total;
      const pages = await Promise.all(Array.from({ length: 8 }, () => openApp(context)));
      const leader = await leaderOf(pages);
      await server.sse.waitFor((s) => s.open === 1);
      expect(server.sse.total - before).toBe(1);

      // Over HTTP/1.1, 8 open streams would take more than the 6 connections per host and stall these.
      const fetched = await Promise.all(pages.map((page, i) => get(page, `/api/nostore/tab-${i}`)));
      expect(fetched.map((r) => r.status)).toEqual(Array(8).fill(200));

      const follower = pages.find((p) => p !== leader) as Page;
      for (const path of ['/api/fresh/h1', '/api/fresh/h2']) {
        await get(follower, path);
        await waitForEntries(follower, path, 1);
      }
      const first = server.sse.publish({ data: { tags: ['item:h1'], keys: [] } });
      await Promise.all(pages.map((page) => waitForEvent(page, 'purge', first))); // every tab hears of it
      expect(await entries(follower, '/api/fresh/h1')).toBe(0);
      await leader.close();
      // Published while the stream is changing hands: the next leader replays it from the last applied id.
      const second = server.sse.publish({ data: { tags: ['item:h2'], keys: [] } });
      const rest = pages.filter((p) => p !== leader);
      const next = await leaderOf(rest);
      await waitForEvent(next, 'purge', second);
      expect(await entries(follower, '/api/fresh/h2')).toBe(0);
      await server.sse.waitFor((s) => s.open === 1);
      expect(server.sse.total - before).toBe(2);
      expect(server.sse.since.at(-1)).toBe(first);
    });
  });

  it('reconnects with backoff after the stream drops, and a resume id the server forgot brings a reset (SSE from a test server)', async () => {
    await withContext(async (context) => {
      const page = await openApp(context);
      await server.sse.waitFor((s) => s.open === 1);
      for (const path of ['/api/fresh/r1', '/api/untagged/r1']) {
        await get(page, path);
        await waitForEntries(page, path, 1);
      }
      const applied = server.sse.publish({ data: { tags: ['nothing-cached'], keys: [] } });
      await waitForEvent(page, 'purge', applied);
      // Purges go on while this browser is away, more than the server keeps.
      server.sse.dropAll();
      server.sse.publish({ data: { tags: ['item:r1'], keys: [] } });
      server.sse.forgetUpTo(server.sse.publish({ data: { tags: ['other'], keys: [] } }));
      await waitForEvent(page, 'offline');
      await waitForEvent(page, 'reset');
      expect(await entries(page, '/api/fresh/r1')).toBe(0); // every tagged entry went
      expect(await entries(page, '/api/untagged/r1')).toBe(1); // untagged ones stay
      expect(server.sse.since.at(-1)).toBe(applied);
    });
  });

  it('skips a purge the worker refuses as malformed instead of retrying it forever (SSE from a test server)', async () => {
    await withContext(async (context) => {
      const page = await openApp(context);
      await server.sse.waitFor((s) => s.open === 1);
      await get(page, '/api/fresh/m1');
      await waitForEntries(page, '/api/fresh/m1', 1);
      server.sse.publish({ data: { tags: ['has space'], keys: [] } });
      const good = server.sse.publish({ data: { tags: ['item:m1'], keys: [] } });
      await waitForEvent(page, 'purge', good);
      expect(await entries(page, '/api/fresh/m1')).toBe(0);
    });
  });

  it('setUser, stats and logout reach the worker', async () => {
    await withContext(async (context) => {
      const page = await openApp(context);
      await page.evaluate(async () => {
        const g = globalThis as unknown as ClientPage & PageGlobals;
        g.document.cookie = 'user=dora';
        await g.strata.setUser('dora');
      });
      await get(page, '/api/me');
      await waitForEntries(page, '/api/me', 1);
      await get(page, '/api/me');
      const result = await page.evaluate(async () => {
        const g = globalThis as unknown as ClientPage;
        const stats = await g.strata.stats();
        return { hits: stats.routes['/api/me']?.hit, evicted: await g.strata.logout() };
      });
      expect(result).toEqual({ hits: 1, evicted: 1 });
      expect(await entries(page, '/api/me')).toBe(0);
    });
  });

  it('sends the app’s headers on every (re)connect, and setUser with another id reopens the stream with the new credential', async () => {
    await withContext(async (context) => {
      const page = await context.newPage();
      await page.goto(server.url);
      const before = server.sse.total;
      await page.evaluate(async () => {
        const g = globalThis as unknown as ClientPage & PageGlobals;
        g.localStorage.setItem('token', 'alice.t1');
        g.strata = await g.StrataClient.registerStrata({
          swUrl: '/sw.js',
          events: '/strata/events',
          headers: async () => ({ authorization: `Bearer ${g.localStorage.getItem('token')}` }),
        });
      });
      await server.sse.waitFor((s) => s.total === before + 1 && s.open === 1);
      expect(server.sse.requests.at(-1)?.authorization).toBe('Bearer alice.t1');
      const applied = server.sse.publish({ data: { tags: ['nothing-stored'], keys: [] } });
      await page.waitForFunction(
        ([id, key]) => (globalThis as unknown as PageGlobals).localStorage.getItem(key) === id,
        [applied, `strata:last-purge-id:${server.origin}/strata/events`] as const,
      );

      // This tab's first setUser reopens the stream; the same user again keeps it; another user
      // reopens it with the new token.
      await page.evaluate(() => (globalThis as unknown as ClientPage).strata.setUser('alice'));
      await server.sse.waitFor((s) => s.total === before + 2 && s.open === 1);
      await page.evaluate(async () => {
        const g = globalThis as unknown as ClientPage & PageGlobals;
        await g.strata.setUser('alice');
        g.localStorage.setItem('token', 'bob.t2');
        await g.strata.setUser('bob');
      });
      await server.sse.waitFor((s) => s.requests.at(-1)?.authorization === 'Bearer bob.t2' && s.open === 1);
      expect(server.sse.requests.slice(before).map((r) => r.authorization)).toEqual([
        'Bearer alice.t1',
        'Bearer alice.t1',
        'Bearer bob.t2',
      ]);
      // It resumes from the last applied purge, in the header as well as in `since`.
      expect(server.sse.requests.at(-1)?.lastEventId).toBe(applied);
      expect(server.sse.since.at(-1)).toBe(applied);
    });
  });

  it('emits update when a new worker takes control', async () => {
    await withContext(async (context) => {
      const page = await openApp(context);
      const previous = server.sw;
      try {
        server.sw = (await buildServiceWorker({ manifest: { ...manifest, version: 'client-update' } })).code;
        await page.evaluate(async () => {
          const { navigator } = globalThis as unknown as PageGlobals;
          await (await navigator.serviceWorker.getRegistration())?.update();
        });
        await waitForEvent(page, 'update');
      } finally {
        server.sw = previous;
      }
    });
  });

  it('automatic updates (the default): each open tab is told once, none waits, none reloads', async () => {
    await withContext(async (context) => {
      const pages = [await openApp(context), await openApp(context)];
      const loads = countLoads(pages);
      const previous = server.sw;
      try {
        server.sw = (await buildServiceWorker({ manifest: { ...manifest, version: 'auto-2' } })).code;
        await updateWorker(pages[0] as Page);
        for (const page of pages) await waitForEvent(page, 'update');
        for (const page of pages) {
          await page.evaluate(() => (globalThis as unknown as ClientPage).strata.stats()); // a round trip
          expect(await seenOf(page, 'update')).toBe(1);
          expect(await seenOf(page, 'waiting')).toBe(0);
        }
        expect(loads).toEqual([0, 0]);
      } finally {
        server.sw = previous;
      }
    });
  });

  it('prompt updates: every tab is told once of the waiting worker; applyUpdate in one switches, and each tab reloads once', async () => {
    await withContext(async (context) => {
      const previous = server.sw;
      const prompt = async (version: string) =>
        (await buildServiceWorker({ manifest: { ...manifest, version }, options: { skipWaiting: false } })).code;
      try {
        server.sw = await prompt('prompt-1');
        const pages = [await openApp(context, 'prompt'), await openApp(context, 'prompt')];
        const loads = countLoads(pages);
        server.sw = await prompt('prompt-2');
        await updateWorker(pages[0] as Page);
        for (const page of pages) await waitForEvent(page, 'waiting');
        for (const page of pages) expect(await seenOf(page, 'waiting')).toBe(1);
        expect(loads).toEqual([0, 0]); // nothing switches until asked

        expect(await switchTabs(pages, pages[1] as Page)).toBe(true);
        for (const page of pages) {
          await startClient(page, 'prompt');
          await page.evaluate(() => (globalThis as unknown as ClientPage).strata.stats()); // the new worker answers
          const waiting = await page.evaluate(async () => {
            const { navigator } = globalThis as unknown as PageGlobals;
            const registration = (await navigator.serviceWorker.getRegistration()) as unknown as { waiting: unknown };
            return registration.waiting !== null;
          });
          expect(waiting).toBe(false);
          expect(await seenOf(page, 'waiting')).toBe(0);
          expect(await applyUpdate(page)).toBe(false);
        }
        expect(loads).toEqual([1, 1]); // one reload each, and no loop
      } finally {
        server.sw = previous;
      }
    });
  });

  it('without service workers, registerStrata returns a no-op client and warns, never throws', async () => {
    await withContext(async (context) => {
      await context.addInitScript(() => {
        const { navigator } = globalThis as unknown as { navigator: object };
        Object.defineProperty(Object.getPrototypeOf(navigator), 'serviceWorker', { get: () => undefined });
      });
      const page = await context.newPage();
      const warnings: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'warning') warnings.push(message.text());
      });
      await page.goto(server.url);
      const client = await page.evaluate(async () => {
        const g = globalThis as unknown as ClientPage;
        const strata = await g.StrataClient.registerStrata({ swUrl: '/sw.js', events: '/strata/events' });
        await strata.setUser('x');
        return { supported: strata.supported, evicted: await strata.logout(), stats: await strata.stats() };
      });
      expect(client.supported).toBe(false);
      expect(client.evicted).toBe(0);
      expect(client.stats.routes).toEqual({});
      expect(warnings.join('\n')).toMatch(/service workers are not available/);
      expect(server.sse.open).toBe(0);
    });
  });
});
