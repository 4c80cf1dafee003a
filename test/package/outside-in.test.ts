import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseCacheStatus } from '../../demo/src/layers.js';
import { chromiumOptions, entries, get, waitForEntries } from '../../packages/sw/test/browser/helpers/browser.js';
import {
  type AppServer,
  createApp,
  diskUsage,
  isInside,
  lockedSources,
  megabytes,
  must,
  PACKAGES,
  pack,
  type Ran,
  repo,
  run,
  startServer,
  succeeded,
  USER_DEPENDENCIES,
  userEnv,
} from './app.js';

/**
 * The packages as a user gets them: packed, installed from the tarballs into fresh apps in the
 * system's temporary folder (outside the repository, so Node's resolution cannot walk up into its
 * node_modules), then imported, type-checked, built and run there.
 */

const BROWSER_ONLY_LIMIT = 4 * 1024 * 1024;
/** Packages a server using only the memory store must not load. */
const OPTIONAL_PARTS =
  /\/node_modules\/(libpg-query|pg|pg-[^/]+|@electric-sql\/pglite|redis|@redis\/[^/]+|prom-client)\//;

const started = performance.now();
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const RESOLUTIONS = ['nodenext', 'bundler'] as const;
let work: string;
let app: string; // the full stack
let browserOnly: string; // @strata/client alone
/** The slow steps, started once the apps are installed and awaited by their tests. */
let typeChecks: Record<(typeof RESOLUTIONS)[number], Promise<Ran>>;
let built: Promise<Ran>;

/** The app's TypeScript 5 on one of the consumer's tsconfigs. */
function typeCheck(resolution: string): Promise<Ran> {
  const tsc = join(app, 'node_modules/typescript/bin/tsc');
  const flags = ['--strict', '--skipLibCheck', 'false', '--noEmit'];
  return run(process.execPath, [tsc, '-p', `tsconfig.${resolution}.json`, ...flags], app);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'strata-outside-in-'));
  app = join(work, 'app');
  browserOnly = join(work, 'browser-only');
  const tarballs = await pack(work);
  console.log(`packed in ${seconds(started)}`);
  const installing = performance.now();
  await Promise.all([
    createApp(app, [...PACKAGES.map((name) => tarballs[name]), ...USER_DEPENDENCIES], true),
    // A user installs @strata/client; the policy tarball stands in for the registry copy it pulls in.
    createApp(browserOnly, [tarballs.client, tarballs.policy]),
  ]);
  console.log(`installed in ${seconds(installing)}`);
  typeChecks = { nodenext: typeCheck('nodenext'), bundler: typeCheck('bundler') };
  built = run('npx', ['--no', 'vite', 'build'], app);
});

afterAll(async () => {
  // Children still running (a failed test's) finish before their folder goes.
  await Promise.allSettled([...Object.values(typeChecks ?? {}), built]);
  if (work) await rm(work, { recursive: true, force: true });
  console.log(`outside-in suite: ${seconds(started)}`);
});

describe('the packages installed from their tarballs into an app outside the repository', () => {
  test('the apps live outside the repository and hold the packed @strata packages', async () => {
    expect(isInside(repo, app)).toBe(false);
    expect(isInside(app, repo)).toBe(false);
    for (const dir of [app, browserOnly]) {
      const sources = await lockedSources(dir);
      const strata = Object.entries(sources).filter(([path]) => path.includes('node_modules/@strata/'));
      expect(strata.length).toBeGreaterThan(0);
      // Each @strata package once, at the top level, from a tarball: none fetched from a registry.
      for (const [path, resolved] of strata) {
        expect(path).toMatch(/^node_modules\/@strata\/[a-z]+$/);
        expect(resolved).toMatch(/^file:.*\.tgz$/);
      }
    }
  });

  test('a browser-only app with @strata/client (and what it pulls in) takes at most 4 MB', async () => {
    const usage = await diskUsage(join(browserOnly, 'node_modules'));
    const installed = (await readdir(join(browserOnly, 'node_modules'))).filter((name) => !name.startsWith('.'));
    console.log(
      `browser-only node_modules: ${megabytes(usage.disk)} on disk, ${megabytes(usage.bytes)} in ${usage.files} files (${installed.join(', ')})`,
    );
    expect(usage.disk).toBeLessThanOrEqual(BROWSER_ONLY_LIMIT);
  });

  test('every entry resolves inside the app and loads in plain Node, or names the peer it is missing', async () => {
    const loaded = ['@strata/policy', '@strata/policy/validate', '@strata/sw/vite', '@strata/server'].concat(
      ['node', 'express', 'fastify', 'hono', 'redis', 'sql'].map((sub) => `@strata/server/${sub}`),
    );
    // Browser code is resolved here and loaded by the Vite build and Chromium below.
    const { stdout } = await must(
      process.execPath,
      ['entries.mjs', ...loaded, '--resolve-only', '@strata/client', '@strata/sw'],
      app,
    );
    const results = JSON.parse(stdout) as Record<
      string,
      { resolved: string | null; loaded: boolean; error: { code: string | null; message: string } | null }
    >;
    for (const [entry, result] of Object.entries(results)) {
      expect
        .soft(String(result.resolved), entry)
        .toMatch(new RegExp(`^file://${join(app, 'node_modules', '@strata')}/`));
    }
    // Their optional peers (express for the types, fastify and hono) are type-only imports or installed here.
    for (const entry of ['@strata/policy', '@strata/policy/validate', '@strata/sw/vite', '@strata/server']) {
      expect.soft(results[entry], entry).toMatchObject({ loaded: true, error: null });
    }
    for (const entry of ['node', 'express', 'fastify', 'hono'].map((sub) => `@strata/server/${sub}`)) {
      expect.soft(results[entry], entry).toMatchObject({ loaded: true, error: null });
    }
    // The Redis and SQL entries load only with their optional peers, which this app does not
    // install: either they load (the peer imported on first use) or the error names the peer.
    const peers = { '@strata/server/redis': /\bredis\b/, '@strata/server/sql': /pglite|\bpg\b|libpg-query/ };
    for (const [entry, peer] of Object.entries(peers)) {
      const result = results[entry];
      expect.soft(result?.resolved, `${entry} is exported`).not.toBeNull();
      if (result?.error) expect.soft(result.error.message, entry).toMatch(peer);
      else expect.soft(result?.loaded, entry).toBe(true);
    }
    for (const entry of ['@strata/client', '@strata/sw']) expect.soft(results[entry]?.error, entry).toBeNull();
  });

  test('importing @strata/server with the memory store loads no SQL parser, PostgreSQL, PGlite, Redis or prom-client', async () => {
    const log = join(work, 'modules.log');
    const { stdout } = await must(
      process.execPath,
      ['--import', './record-modules.mjs', 'memory-only.mjs'],
      app,
      userEnv({ MODULE_LOG: log }),
    );
    const ran = JSON.parse(stdout) as { first: string; second: string; commonjs: string[] };
    expect(ran).toMatchObject({ first: 'MISS', second: 'HIT' }); // the server cache really ran
    const urls = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    const files = [...urls.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)), ...ran.commonjs];
    // The hook saw the package itself: an empty record would prove nothing.
    expect(files).toContain(join(app, 'node_modules/@strata/server/dist/index.js'));
    expect(files.filter((file) => !isInside(app, file))).toEqual([]);
    expect(files.filter((file) => OPTIONAL_PARTS.test(file))).toEqual([]);
  });

  test.each(RESOLUTIONS)(
    'a strict consumer type-checks without skipLibCheck, TypeScript 5, %s resolution',
    async (resolution) => {
      const version = await must(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '--version'], app);
      expect(version.stdout).toMatch(/^Version 5\./);
      const checked = await typeChecks[resolution];
      expect(checked.stdout).toBe('');
      expect(checked.code).toBe(0);
    },
  );

  test('strata check validates a JSON manifest and lists its routes', async () => {
    const checked = await run('npx', ['--no', 'strata', 'check', 'manifest.json'], app);
    expect(checked.stderr).not.toMatch(/error/i);
    expect(checked.code).toBe(0);
    for (const route of ['/assets/*', '/api/items', '/sw.js']) expect(checked.stdout).toContain(route);
  });

  describe('a Vite front end served by Express 5, in Chromium', () => {
    const token = randomBytes(24).toString('base64url');
    let server: AppServer;
    let browser: Browser | undefined;

    beforeAll(async () => {
      succeeded(await built, 'vite build');
      server = await startServer(app, { ADMIN_TOKEN: token });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    test('the build holds the worker, and static files get the manifest policy, not express.static’s', async () => {
      const dist = join(app, 'dist');
      const assets = await readdir(join(dist, 'assets'));
      expect(await readdir(dist)).toEqual(expect.arrayContaining(['index.html', 'sw.js', 'assets']));
      const script = assets.find((name) => name.endsWith('.js'));
      expect(script).toBeDefined();
      const asset = await fetch(`${server.url}/assets/${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('max-age=604800, immutable');
      const sw = await fetch(`${server.url}/sw.js`);
      expect(sw.headers.get('cache-control')).toBe('no-store');
      expect(await sw.text()).toContain('strata');
    });

    test('the worker answers the second fetch; an admin purge reaches the page and evicts the entry', async () => {
      const originCount = async () =>
        ((await (await fetch(`${server.url}/origin-counts`)).json()) as { items: number }).items;
      browser = await chromium.launch(chromiumOptions);
      const page = await browser.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => {
        const page = globalThis as { __ready?: boolean; __error?: string };
        return page.__ready === true || page.__error !== undefined;
      });
      expect(await page.evaluate(() => (globalThis as { __error?: string }).__error)).toBeUndefined();
      expect(
        await page.evaluate(
          () =>
            (globalThis as unknown as { navigator: { serviceWorker: { controller: unknown } } }).navigator.serviceWorker
              .controller !== null,
        ),
      ).toBe(true);

      const first = await get(page, '/api/items');
      expect(first.status).toBe(200);
      expect(await originCount()).toBe(1);
      await waitForEntries(page, '/api/items', 1);

      const second = await get(page, '/api/items');
      expect(second.body).toEqual(first.body);
      const members = parseCacheStatus(second.headers['cache-status'] ?? null);
      expect(members.at(-1)?.cache).toBe('strata-sw');
      expect(members.at(-1)?.params.get('hit')).toBe(true);
      expect(await originCount()).toBe(1);

      // The page holds the purge stream before the purge is made.
      const admin = { authorization: `Bearer ${token}` };
      await expect
        .poll(
          async () =>
            (
              (await (await fetch(`${server.url}/api/v1/cache/stats`, { headers: admin })).json()) as {
                sse: { open: number };
              }
            ).sse.open,
          { timeout: 30_000 },
        )
        .toBeGreaterThanOrEqual(1);
      const purge = await fetch(`${server.url}/api/v1/cache/invalidate`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['items'] }),
      });
      expect(purge.status).toBe(202);

      await page.waitForFunction(() =>
        (globalThis as unknown as { __purges: { tags: string[] }[] }).__purges.some((p) => p.tags.includes('items')),
      );
      const heard = await page.evaluate(
        () => (globalThis as unknown as { __purges: { tags: string[]; evicted: number }[] }).__purges,
      );
      expect(heard).toEqual([expect.objectContaining({ tags: ['items'], evicted: 1 })]);
      expect(await entries(page, '/api/items')).toBe(0);

      // Evicted in the worker and purged in the server cache: the next fetch reaches the origin.
      const third = await get(page, '/api/items');
      expect(third.status).toBe(200);
      expect(await originCount()).toBe(2);
    });
  });
});
