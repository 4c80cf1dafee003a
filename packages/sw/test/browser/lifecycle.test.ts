import { fileURLToPath } from 'node:url';
import type { Manifest } from '@strata/policy';
import { buildServiceWorker } from '@strata/sw/vite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import manifest from './fixtures/manifest.js';
import { controlledPage, entries, get, launchChromium, waitForActivated, waitForEntries } from './helpers/browser.js';
import type { PageGlobals } from './helpers/page.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// These tests use the default worker entry (`installStrata(manifest, options)` with the manifest
// inlined), the one the Vite plugin builds when no `sw` is given.

let server: TestServer;
let browser: Browser;
const root = fileURLToPath(new URL('./fixtures/', import.meta.url));
const build = async (version: string, options = {}) =>
  (await buildServiceWorker({ manifest: { ...manifest, version } as Manifest, root, options })).code;

beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer(manifest), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs `run` in a fresh browser context, on a page controlled by the worker `build(...worker)` makes. */
async function withWorker(worker: Parameters<typeof build>, run: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext();
  try {
    server.sw = await build(...worker);
    await run(await controlledPage(context, server.url));
  } finally {
    await context.close();
  }
}

const cacheNames = (page: Page): Promise<string[]> =>
  page.evaluate(() => (globalThis as unknown as PageGlobals).caches.keys());

/** Serves `code` as the new /sw.js and waits until the page is controlled by it. */
async function deploy(page: Page, code: string): Promise<void> {
  server.sw = code;
  await page.evaluate(async () => {
    const { navigator } = globalThis as unknown as PageGlobals;
    const changed = new Promise<void>((resolve) =>
      navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true }),
    );
    await (await navigator.serviceWorker.getRegistration())?.update();
    await changed; // skipWaiting: the new worker takes over this page without a reload
  });
  await waitForActivated(page);
}

describe('service worker lifecycle in Chromium', () => {
  it('a new manifest version drops the previous version’s caches on activate', async () => {
    await withWorker(['v1'], async (page) => {
      await get(page, '/api/fresh/life-1');
      await waitForEntries(page, '/api/fresh/life-1', 1);
      expect(await cacheNames(page)).toEqual(['strata:v1:public']);

      await deploy(page, await build('v2'));
      expect(await cacheNames(page)).toEqual([]);
      const after = await get(page, '/api/fresh/life-1');
      expect(after.headers['cache-status']).toMatch(/strata-sw; fwd=uri-miss/);
      await waitForEntries(page, '/api/fresh/life-1', 1);
      expect(await cacheNames(page)).toEqual(['strata:v2:public']);
    });
  });

  it('activation reconciles Cache Storage and the tag index: orphans on either side go, and what holds a credential or another user', async () => {
    await withWorker(['r1'], async (page) => {
      await get(page, '/api/fresh/kept');
      await waitForEntries(page, '/api/fresh/kept', 1);
      // An entry the index does not know, and a record whose entry is gone.
      await page.evaluate(async () => {
        const { caches } = globalThis as unknown as PageGlobals;
        const cache = (await caches.open('strata:r1:public')) as unknown as {
          put(u: string, r: Response): Promise<void>;
        };
        await cache.put('/api/fresh/orphan', new Response('orphan'));
      });
      const ghost = `${server.origin}/api/fresh/ghost`;
      await putRecord(page, { key: ghost, path: ghost, tags: ['fresh'], route: '/api/fresh/:id' });

      // What an earlier worker left: a key holding a raw token and the token in the stored request
      // (indexed, so not an orphan), and the partition of a user who is not the current one.
      const tainted = `${server.origin}/api/auth/old?strata-vary=${encodeURIComponent('["Bearer alice.tok3n"]')}`;
      await page.evaluate(async (url) => {
        const { caches } = globalThis as unknown as PageGlobals;
        type Putting = { put(k: Request | string, r: Response): Promise<void> };
        const headers = { authorization: 'Bearer alice.tok3n' };
        await ((await caches.open('strata:r1:public')) as unknown as Putting).put(
          new Request(url, { headers }),
          new Response('old'),
        );
        await ((await caches.open('strata:r1:user:mallory')) as unknown as Putting).put(
          '/api/me',
          new Response('hers'),
        );
      }, tainted);
      await putRecord(page, {
        key: tainted,
        path: `${server.origin}/api/auth/old`,
        tags: ['auth'],
        route: '/api/auth/:id',
      });

      // Same manifest version, a changed worker script (an option differs): caches are kept, reconciled.
      await deploy(page, await build('r1', { cleanupInterval: 61 }));
      expect(await cacheNames(page)).toEqual(['strata:r1:public']);
      expect(await entries(page, '/api/auth/old')).toBe(0);
      expect(await entries(page, '/api/fresh/orphan')).toBe(0);
      expect(await entries(page, '/api/fresh/kept')).toBe(1);
      const ids = await page.evaluate(
        () =>
          new Promise<string[]>((resolve) => {
            const { indexedDB } = globalThis as unknown as IdbGlobals;
            const open = indexedDB.open('strata:index');
            open.onsuccess = () => {
              const request = open.result.transaction('entries').objectStore('entries').getAllKeys();
              request.onsuccess = () => resolve(request.result as string[]);
            };
          }),
      );
      expect(ids).toEqual([`strata:r1:public ${server.origin}/api/fresh/kept`]);
      expect((await get(page, '/api/fresh/kept')).headers['cache-status']).toMatch(/strata-sw; hit/);
    });
  });

  it('keeps at most maxEntries per cache, the oldest stored going first', async () => {
    await withWorker(['m1', { maxEntries: 3 }], async (page) => {
      for (const i of [1, 2, 3, 4, 5]) {
        await get(page, `/api/fresh/max-${i}`);
        await waitForEntries(page, `/api/fresh/max-${i}`, 1);
      }
      await page.waitForFunction(
        async () => {
          const { caches } = globalThis as unknown as PageGlobals;
          return (await (await caches.open('strata:m1:public')).keys()).length === 3;
        },
        undefined,
        { polling: 25 },
      );
      expect(await entries(page, '/api/fresh/max-1')).toBe(0);
      expect(await entries(page, '/api/fresh/max-2')).toBe(0);
      expect(await entries(page, '/api/fresh/max-5')).toBe(1);
    });
  });
});

/** Writes a record of `strata:r1:public` straight into the tag index, as a stopped or older worker could have left it. */
function putRecord(page: Page, entry: { key: string; path: string; tags: string[]; route: string }): Promise<void> {
  const cache = 'strata:r1:public';
  const times = { storedAt: Date.now(), expiresAt: Date.now() + 3_600_000 };
  const record = { id: `${cache} ${entry.key}`, cache, url: entry.path, ...entry, ...times };
  return page.evaluate(
    (r) =>
      new Promise<void>((resolve, reject) => {
        const { indexedDB } = globalThis as unknown as IdbGlobals;
        const open = indexedDB.open('strata:index');
        open.onsuccess = () => {
          const tx = open.result.transaction('entries', 'readwrite');
          tx.objectStore('entries').put(r);
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
      }),
    record,
  );
}

/** The raw IndexedDB API, as far as these tests use it (see PageGlobals for why it is typed here). */
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
}
interface IdbGlobals {
  indexedDB: {
    open(name: string): IdbRequest<{
      transaction(
        store: string,
        mode?: 'readwrite',
      ): {
        objectStore(name: string): { put(value: unknown): void; getAllKeys(): IdbRequest<unknown[]> };
        oncomplete: (() => void) | null;
        onerror: (() => void) | null;
        error: unknown;
      };
    }>;
  };
}
