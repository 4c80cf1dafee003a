import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackages } from '../../../../test/build-lock.js';
import { modulesLoaded } from '../../../../test/modules-loaded.js';

// What plain Node loads when an app imports the BUILT package by name (no `strata-source`
// condition): recorded by a resolve hook and require.cache, never inferred from timing.

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const dist = join(repo, 'packages/server/dist');

/** Optional peers, and prom-client (loaded on the first metrics() call). */
const HEAVY = ['redis', '@redis/client', 'pg', '@electric-sql/pglite', 'libpg-query', 'prom-client'];
const isHeavy = (loaded: string) =>
  /\/node_modules\/(?:redis|@redis\/[^/]+|pg|@electric-sql\/pglite|libpg-query|prom-client)\//.test(loaded);

let work: string;

/** Runs `script` as an ES module in a fresh `node` from the repository root; returns what it loaded. */
const loadsOf = (script: string): string[] => modulesLoaded(script, repo);

const heavyIn = (loads: string[]) => loads.filter(isHeavy);

const APP = `
  const { defineManifest, serverCache } = await import('@strata/policy');
  const { createStrata } = await import('@strata/server');
  const strata = createStrata({ manifest: defineManifest({ version: 1, routes: [{ match: '/a', policy: serverCache(60) }] }) });
  const first = await strata.handle(new Request('http://app.test/a'), async () => new Response('a'));
  const second = await strata.handle(new Request('http://app.test/a'), async () => new Response('a'));
  if (first.headers.get('x-cache') !== 'MISS' || second.headers.get('x-cache') !== 'HIT') process.exit(3);
`;

describe('the built @strata/server in a fresh node process', () => {
  beforeAll(async () => {
    // Incremental: a no-op when the packages are already built (npm test type-checks first).
    await buildPackages('packages/server');
    expect(existsSync(join(dist, 'index.js'))).toBe(true);
    work = mkdtempSync(join(tmpdir(), 'strata-loads-'));
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`import('@strata/server'), createStrata and a cached request load none of ${HEAVY.join(', ')}`, () => {
    const loads = loadsOf(`${APP} await strata.close();`);
    expect(loads.some((url) => url.endsWith('/packages/server/dist/index.js'))).toBe(true);
    expect(heavyIn(loads)).toEqual([]);
  });

  it('the first metrics() call loads prom-client (the recorder sees packages loaded later)', () => {
    const loads = loadsOf(`${APP}
      const metrics = await strata.metrics();
      if (!(await metrics.text()).includes('strata_cache_lookups_total{route="/a",outcome="hit"} 1')) process.exit(4);
      await strata.close();`);
    expect(heavyIn(loads).some((url) => url.includes('/node_modules/prom-client/'))).toBe(true);
  });

  it("import('@strata/server/sql') loads no database client or parser until one is used", () => {
    const idle = loadsOf(`await import('@strata/server/sql');`);
    expect(heavyIn(idle)).toEqual([]);

    const parsing = loadsOf(`
      const { loadSqlParser, tablesFromSql } = await import('@strata/server/sql');
      await loadSqlParser();
      if (tablesFromSql('SELECT * FROM users').read[0] !== 'public.users') process.exit(5);`);
    const heavy = heavyIn(parsing);
    expect(heavy.some((url) => url.includes('/node_modules/libpg-query/'))).toBe(true);
    expect(heavy.filter((url) => !url.includes('/node_modules/libpg-query/'))).toEqual([]);
  });

  it("import('@strata/server/redis') alone loads no Redis client (a store connects on first use)", () => {
    expect(heavyIn(loadsOf(`await import('@strata/server/redis');`))).toEqual([]);
  });

  // An app whose node_modules holds @strata/server and its dependencies, and no optional peer.
  const peerlessApp = () => {
    const app = join(work, 'app');
    if (existsSync(app)) return app;
    for (const name of ['@strata/server', '@strata/policy', 'lru-cache', 'zod', 'prom-client']) {
      mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
      symlinkSync(join(repo, 'node_modules', name), join(app, 'node_modules', name));
    }
    return app;
  };

  it('without redis installed, redisStore() and redisBus() fail at once naming it, instead of a cache that silently bypasses', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--preserve-symlinks',
        '--input-type=module',
        '-e',
        `const { redisStore, redisBus } = await import('@strata/server/redis');
         const seen = [];
         for (const make of [() => redisStore({ url: 'redis://127.0.0.1:1' }), () => redisBus({ url: 'redis://127.0.0.1:1' })]) {
           try { make(); seen.push('created'); } catch (error) { seen.push(error.name + ' ' + error.code + ': ' + error.message); }
         }
         console.log(JSON.stringify(seen));`,
      ],
      { cwd: peerlessApp(), env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' },
    );
    const [store, bus] = JSON.parse(out) as string[];
    expect(store).toMatch(/^StrataError E_PEER_MISSING: redisStore .*'redis'.*npm install redis/);
    expect(bus).toMatch(/^StrataError E_PEER_MISSING: redisBus .*'redis'.*npm install redis/);
  });

  it('without pg or libpg-query installed, the SQL entry says which package to install', () => {
    const app = peerlessApp();
    const out = execFileSync(
      process.execPath,
      [
        '--preserve-symlinks',
        '--input-type=module',
        '-e',
        `const sql = await import('@strata/server/sql');
         const seen = [];
         for (const attempt of [() => sql.loadSqlParser(), () => sql.postgresDriver({ connectionString: 'postgres://x' }).query('SELECT 1')]) {
           try { await attempt(); seen.push('resolved'); } catch (error) { seen.push(error.name + ' ' + error.code + ': ' + error.message); }
         }
         console.log(JSON.stringify(seen));`,
      ],
      { cwd: app, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' },
    );
    const [parser, driver] = JSON.parse(out) as string[];
    expect(parser).toMatch(/^StrataError E_PEER_MISSING: .*'libpg-query'.*npm install libpg-query/);
    expect(driver).toMatch(/^StrataError E_PEER_MISSING: postgresDriver .*'pg'.*npm install pg/);
  });

  it('the declarations reachable from dist/index.d.ts reference none of the optional peers', () => {
    const seen = new Set<string>();
    const bare: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const [, specifier] of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
        if (!specifier) continue;
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')));
        else bare.push(specifier);
      }
    };
    visit(join(dist, 'index.d.ts'));
    expect(seen.size).toBeGreaterThan(10);
    const peers = bare.filter((name) => HEAVY.some((heavy) => name === heavy || name.startsWith(`${heavy}/`)));
    expect(peers).toEqual([]);
  });
});
