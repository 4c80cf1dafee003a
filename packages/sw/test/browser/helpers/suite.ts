import { fileURLToPath } from 'node:url';
import { buildServiceWorker } from '@strata/sw/vite';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { controlledPage, entries, get, launchChromium, waitForEntries } from './browser.js';
import { startTestServer, type TestServer } from './server.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface WorkerSuite {
  /** The test server (there once the suite's beforeAll ran). */
  server(): TestServer;
  /** Runs `run` in a fresh browser context (its own storage and worker) with a controlled page. */
  session(run: (page: Page, context: BrowserContext) => Promise<void>): Promise<void>;
  /** A path no other test of the file uses, so origin counters start at zero. */
  unique(prefix: string): string;
  /** Fetches a response that is not stored yet, and waits until the worker has stored it. */
  fill(page: Page, path: string, headers?: Record<string, string>): ReturnType<typeof get>;
}

export interface WorkerSuiteOptions {
  /** The manifest module in fixtures/, for the worker and the test server. Default `manifest.ts`. */
  manifest?: string;
  /**
   * The worker entry in fixtures/; `null` builds the default entry, which inlines only the part
   * of the manifest the worker reads. Default `sw.ts`.
   */
  entry?: string | null;
}

/**
 * One Chromium, one test server and the fixture worker (fixtures/sw.ts: the real installStrata
 * with a clock the tests move) for a test file; a new browser context per test.
 */
export function workerSuite({ manifest = 'manifest.ts', entry = 'sw.ts' }: WorkerSuiteOptions = {}): WorkerSuite {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let n = 0;

  beforeAll(async () => {
    const worker = buildServiceWorker({
      manifest: fixture(manifest),
      ...(entry === null ? {} : { sw: fixture(entry) }),
      root: fixture(''),
    });
    const [sw, s, b] = await Promise.all([
      worker,
      // The server answers with the headers of the validated manifest the worker was built with.
      worker.then((built) => startTestServer(built.manifest)),
      launchChromium(),
    ]);
    server = s;
    browser = b;
    server.sw = sw.code;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  return {
    server() {
      if (!server) throw new Error('the suite has not started');
      return server;
    },
    async session(run) {
      if (!browser || !server) throw new Error('the suite has not started');
      const context = await browser.newContext();
      try {
        await run(await controlledPage(context, server.url), context);
      } finally {
        await context.close();
      }
    },
    unique: (prefix) => `${prefix}${++n}`,
    async fill(page, path, headers = {}) {
      const before = await entries(page, path);
      const response = await get(page, path, { headers });
      await waitForEntries(page, path, before + 1);
      return response;
    },
  };
}
