/**
 * What a service worker's cache costs the browser's storage: in real Chromium, with a profile on
 * disk (an incognito context keeps IndexedDB in memory, and its sizes would not be the ones a user
 * pays), `navigator.storage.estimate()` before and after the worker has stored a set of URLs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { chromiumOptions, registerWorker } from '../../packages/sw/test/browser/helpers/browser.js';

/** Bytes per storage kind, as Chromium's `usageDetails` reports them (0 when absent). */
export interface StorageUse {
  usage: number;
  indexedDB: number;
  caches: number;
  serviceWorkerRegistration: number;
}

export interface WorkerStorage {
  /** Once the worker controls the page, before any of the URLs is fetched. */
  before: StorageUse;
  /** Once every URL is in Cache Storage and IndexedDB has stopped growing. */
  after: StorageUse;
  /** Cache Storage entries whose path matches the pattern, after. */
  entries: number;
  /** Whether IndexedDB's size held still for the last reads (else the last one is reported). */
  settled: boolean;
}

export interface WorkerStorageOptions {
  /** `http://127.0.0.1:<port>`: serves the worker at `/sw.js` and a page at `pagePath`. */
  origin: string;
  /** A same-origin page without a worker of its own (the app's would register its own). */
  pagePath: string;
  /** Fetched from the page, once each. */
  paths: readonly string[];
  /** Source of a RegExp that the path of every stored entry to count matches. */
  entryPattern: string;
  log: (line: string) => void;
}

/** The page globals used here (benchmarks are type-checked with Node's types, not the DOM lib). */
interface PageGlobals {
  navigator: {
    storage: { estimate(): Promise<{ usage?: number; usageDetails?: Record<string, number> }> };
  };
  caches: { keys(): Promise<string[]>; open(name: string): Promise<{ keys(): Promise<{ url: string }[]> }> };
}

function estimate(page: Page): Promise<StorageUse> {
  return page.evaluate(async () => {
    const { navigator } = globalThis as unknown as PageGlobals;
    const { usage = 0, usageDetails = {} } = await navigator.storage.estimate();
    return {
      usage,
      indexedDB: usageDetails.indexedDB ?? 0,
      caches: usageDetails.caches ?? 0,
      serviceWorkerRegistration: usageDetails.serviceWorkerRegistration ?? 0,
    };
  });
}

function storedEntries(page: Page, pattern: string): Promise<number> {
  return page.evaluate(async (source) => {
    const { caches } = globalThis as unknown as PageGlobals;
    const matches = new RegExp(source);
    let count = 0;
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) {
        if (matches.test(new URL(request.url).pathname)) count++;
      }
    }
    return count;
  }, pattern);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function measureWorkerStorage(options: WorkerStorageOptions): Promise<WorkerStorage> {
  const { origin, paths, entryPattern, log } = options;
  const profile = await mkdtemp(join(os.tmpdir(), 'strata-bench-profile-'));
  const context = await chromium.launchPersistentContext(profile, chromiumOptions);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${origin}${options.pagePath}`);
    await registerWorker(page);
    await sleep(500); // the worker's own first writes (its databases opened) count as before
    const before = await estimate(page);
    await page.evaluate(async (list) => {
      for (let i = 0; i < list.length; i += 50) {
        await Promise.all(
          list.slice(i, i + 50).map(async (path) => {
            const response = await fetch(path);
            await response.text();
            if (!response.ok) throw new Error(`${path} answered ${response.status}`);
          }),
        );
      }
    }, paths);
    log(`      ${paths.length.toLocaleString('en-US')} URLs fetched through the worker; waiting until stored`);
    const deadline = Date.now() + 60_000;
    while ((await storedEntries(page, entryPattern)) < paths.length) {
      if (Date.now() > deadline) throw new Error(`the worker did not store ${paths.length} entries within 60 s`);
      await sleep(250);
    }
    // IndexedDB writes trail the cache writes: wait until its size holds still for three reads.
    let after = await estimate(page);
    let still = 0;
    for (let i = 0; i < 30 && still < 3; i++) {
      await sleep(500);
      const next = await estimate(page);
      still = next.indexedDB === after.indexedDB && next.caches === after.caches ? still + 1 : 0;
      after = next;
    }
    return { before, after, entries: await storedEntries(page, entryPattern), settled: still >= 3 };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}
