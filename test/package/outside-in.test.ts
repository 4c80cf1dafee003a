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
import { missingFiles } from './shape.js';

/**
 * The packages as a user gets them: packed, installed from the tarballs into fresh apps in the
 * system's temporary folder (outside the repository, so Node's resolution cannot walk up into its
 * node_modules), then imported, type-checked, built and run there.
 */

const BROWSER_ONLY_LIMIT = 4 * 1024 * 1024;

/** What the page (fixtures/main.js) and the test read inside Chromium. */
interface AppGlobals {
  __ready?: boolean;
  __error?: string;
  __purges: { tags: string[]; evicted: number }[];
  navigator: { serviceWorker: { controller: unknown } };
}

interface StatsBody {
  sse: { open: number };
}

/** Packages a server using only the memory store must not load. */
const OPTIONAL_PARTS =
  /\/node_modules\/(libpg-query|pg|pg-[^/]+|@electric-sql\/pglite|redis|@redis\/[^/]+|prom-client)\//;

const started = performance.now();
const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(1)} s`;
/** The consumer's type-checks: TypeScript 5 (the app's, as most users run) and 7 (the repository's). */
const TYPE_CHECKS = [
  ['5', 'nodenext'],
  ['5', 'bundler'],
  ['7', 'nodenext'],
  ['7', 'bundler'],
] as const;
type TypeCheck = `${(typeof TYPE_CHECKS)[number][0]} ${(typeof TYPE_CHECKS)[number][1]}`;
let work: string;
let app: string; // the full stack
let browserOnly: string; // @strata/client alone
/** The slow steps, started once the apps are installed and awaited by their tests. */
let typeChecks: Map<TypeCheck, Promise<Ran>>;
let built: Promise<Ran>;

interface EntryResult {
  resolved: string | null;
  loaded: boolean;
  error: { code: string | null; message: string } | null;
}

/** Runs fixtures/entries.mjs in an app: where each entry resolves, and whether it loads. */
async function importEntries(dir: string, entries: string[]): Promise<Record<string, EntryResult>> {
  const { stdout } = await must(process.execPath, ['entries.mjs', ...entries], dir);
  return JSON.parse(stdout) as Record<string, EntryResult>;
}

/** The TypeScript compiler of that major version on one of the consumer's tsconfigs, in the app. */
function tsc(version: '5' | '7'): string {
  return join(version === '5' ? app : repo, 'node_modules/typescript/bin/tsc');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'strata-outside-in-'));
  app = join(work, 'app');
  browserOnly = join(work, 'browser-only');
  const tarballs = await pack(work);
  console.log(`packed in ${seconds(started)}`);
  const installing = performance.now();
  await Promise.all([
    createApp(app, [...PACKAGES.map((name) => tarballs[name]), ...USER_DEPENDENCIES]),
    // A user installs @strata/client; the policy tarball stands in for the registry copy it pulls in.
    createApp(browserOnly, [tarballs.client, tarballs.policy]),
  ]);
  console.log(`installed in ${seconds(installing)}`);
  const strict = ['--strict', '--skipLibCheck', 'false', '--noEmit'];
  typeChecks = new Map(
    TYPE_CHECKS.map(([version, resolution]) => [
      `${version} ${resolution}`,
      run(process.execPath, [tsc(version), '-p', `tsconfig.${resolution}.json`, ...strict], app),
    ]),
  );
  built = run('npx', ['--no', 'vite', 'build'], app);
  // Awaited by their tests; a spawn failure before then is not an unhandled rejection.
  for (const running of [...typeChecks.values(), built]) running.catch(() => undefined);
});

afterAll(async () => {
  // Children still running (a failed test's) finish before their folder goes.
  await Promise.allSettled([...(typeChecks?.values() ?? []), built]);
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

  test('every file a package names (exports under any condition, bin, source-map sources) is in its tarball', async () => {
    for (const name of PACKAGES) {
      const missing = await missingFiles(join(app, 'node_modules/@strata', name));
      expect(missing.slice(0, 10), `@strata/${name}: ${missing.length} missing`).toEqual([]);
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

  test('every entry resolves inside the app and loads in plain Node', async () => {
    const results = await importEntries(app, [
      '@strata/policy',
      '@strata/policy/validate',
      '@strata/sw/vite',
      ...['', '/node', '/express', '/fastify', '/hono', '/redis', '/sql'].map((sub) => `@strata/server${sub}`),
      '@strata/proxy',
      // Browser code: resolved here, loaded by the Vite build and Chromium below.
      '--resolve-only',
      '@strata/client',
      '@strata/client/tanstack-query',
      '@strata/client/swr',
      '@strata/sw',
    ]);
    const inside = new RegExp(`^file://${join(app, 'node_modules', '@strata')}/`);
    for (const [entry, result] of Object.entries(results)) {
      expect.soft(String(result.resolved), entry).toMatch(inside);
      expect.soft(result.error, entry).toBeNull();
    }
    // Every Node entry loads, including those whose optional peers this app lacks: fastify and
    // hono (type-only imports), redis and the SQL clients (imported on first use).
    const loaded = Object.entries(results).filter(([, result]) => result.loaded);
    expect(loaded.map(([entry]) => entry)).toHaveLength(Object.keys(results).length - 4);
  });

  test('using a part whose optional peer is not installed fails with a message naming it', async () => {
    const { stdout } = await must(process.execPath, ['missing-peer.mjs'], app);
    const result = JSON.parse(stdout) as { loaded: boolean; code?: string; message?: string };
    // A StrataError (@strata/policy names missing peers E_PEER_MISSING; the server said E_CONFIG_INVALID).
    expect(result.loaded).toBe(false);
    expect(result.code).toMatch(/^E_(PEER_MISSING|CONFIG_INVALID)$/);
    expect(result.message).toMatch(/'libpg-query'.*npm install libpg-query/);
  });

  test('without zod, @strata/policy loads and @strata/policy/validate and strata check name zod', async () => {
    const results = await importEntries(browserOnly, ['@strata/policy', '@strata/policy/validate']);
    expect(results['@strata/policy']).toMatchObject({ loaded: true, error: null });
    expect(results['@strata/policy/validate']?.error?.message).toMatch(/\bzod\b/);
    const checked = await run('npx', ['--no', 'strata', 'check', 'manifest.json'], browserOnly);
    expect(checked.code).not.toBe(0);
    expect(checked.stderr).toContain('npm install -D zod');
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

  test.each(TYPE_CHECKS)(
    'a strict consumer type-checks without skipLibCheck, TypeScript %s, %s resolution',
    async (version, resolution) => {
      const installed = await must(process.execPath, [tsc(version), '--version'], app);
      expect(installed.stdout).toMatch(new RegExp(`^Version ${version}\\.`));
      const checked = await typeChecks.get(`${version} ${resolution}`);
      expect(checked?.stdout).toBe('');
      expect(checked?.code).toBe(0);
    },
  );

  test('strata check validates a JSON manifest and lists its routes', async () => {
    const checked = await run('npx', ['--no', 'strata', 'check', 'manifest.json'], app);
    expect(checked.stderr).not.toMatch(/error/i);
    expect(checked.code).toBe(0);
    for (const route of ['/assets/*', '/api/items', '/sw.js']) expect(checked.stdout).toContain(route);
  });

  test('strata proxy runs from the installed packages: --help, and exit 2 on a bad flag', async () => {
    // `--` ends npx's own options: after `--no`, npx would take `--help` and `--manifest` as its own.
    const help = await run('npx', ['--no', '--', 'strata', 'proxy', '--help'], app);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: strata proxy --manifest <file> --upstream <url>');
    const bad = await run('npx', ['--no', '--', 'strata-proxy', '--manifest', 'manifest.json', '--nope'], app);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--nope'");
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
        const { __ready, __error } = globalThis as unknown as AppGlobals;
        return __ready === true || __error !== undefined;
      });
      expect(
        await page.evaluate(() => {
          const { __error, navigator } = globalThis as unknown as AppGlobals;
          return { error: __error, controlled: navigator.serviceWorker.controller !== null };
        }),
      ).toEqual({ error: undefined, controlled: true });

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
      // The server's stored X-Cache described the server's answer to the first fetch, not this one.
      expect(second.headers['x-cache']).toBeUndefined();
      expect(second.headers['x-cache-level']).toBeUndefined();

      // The page holds the purge stream before the purge is made.
      const admin = { authorization: `Bearer ${token}` };
      const openStreams = async () =>
        ((await (await fetch(`${server.url}/api/v1/cache/stats`, { headers: admin })).json()) as StatsBody).sse.open;
      await expect.poll(openStreams, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      const purge = await fetch(`${server.url}/api/v1/cache/invalidate`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ tags: ['items'] }),
      });
      expect(purge.status).toBe(202);

      await page.waitForFunction(() =>
        (globalThis as unknown as AppGlobals).__purges.some((heard) => heard.tags.includes('items')),
      );
      const heard = await page.evaluate(() => (globalThis as unknown as AppGlobals).__purges);
      expect(heard).toEqual([expect.objectContaining({ tags: ['items'], evicted: 1 })]);
      expect(await entries(page, '/api/items')).toBe(0);

      // Evicted in the worker and purged in the server cache: the next fetch reaches the origin.
      const third = await get(page, '/api/items');
      expect(third.status).toBe(200);
      expect(await originCount()).toBe(2);

      // With admin auth configured, /metrics wants the admin token too.
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${server.url}/metrics`, { headers: admin });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('strata_cache_lookups_total');

      // The recipe hands Express's response to toRequest: the stream notices the browser leaving.
      await browser.close();
      browser = undefined;
      await expect.poll(openStreams, { timeout: 30_000 }).toBe(0);
    });

    test('express.static’s own Cache-Control on a manifest route is reported once, naming the route and the option', async () => {
      for (let i = 0; i < 2; i++) {
        const legacy = await fetch(`${server.url}/legacy/index.html`);
        expect(legacy.status).toBe(200);
        expect(legacy.headers.get('cache-control')).toBe('public, max-age=0'); // the handler's decision stands
      }
      const warnings = server
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { route?: string; option?: string });
      // Nothing about the routes served with `cacheControl: false`, one report for /legacy.
      expect(warnings).toEqual([expect.objectContaining({ route: '/legacy/*', option: 'respectHandlerCacheControl' })]);
    });
  });
});
