import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cdnCache, defineManifest, noStore, serverCache } from '@strata/policy';
import { createStrata, type Strata } from '@strata/server';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeData } from '../helpers/purge-data.js';
import { expressRecipe, fastifyRecipe, honoRecipe, type RecipeApp } from './recipes.js';

// The README's Express 5, Fastify 5 and Hono 4 recipes, each on a real server driven by real HTTP:
// a cached route, a purge reaching the purge stream, the admin API, metrics, static files.

const DAY = 86_400;
const manifest = defineManifest({
  version: '1',
  routes: [
    { match: '/static/*', policy: cdnCache(7 * DAY, { immutable: true }) },
    { match: '/sw.js', policy: noStore() },
    { match: '/api/items', policy: serverCache(60, { tags: ['items'] }) },
  ],
});
const TOKEN = 'recipe-admin-token';

const RECIPES: { name: string; start: (strata: Strata, dir: string) => Promise<RecipeApp> }[] = [
  { name: 'Express 5', start: expressRecipe },
  { name: 'Fastify 5', start: fastifyRecipe },
  { name: 'Hono 4', start: honoRecipe },
];

describe.each(RECIPES)('the $name recipe', ({ start }) => {
  const warnings: string[] = [];
  let strata: Strata;
  let app: RecipeApp;
  let dir: string;
  let base: string;
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${base}/api/v1/cache${path}`, {
      ...init,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-recipe-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("app");\n');
    strata = createStrata({
      manifest,
      admin: { token: TOKEN },
      logger: { warn: (message) => warnings.push(message) },
    });
    app = await start(strata, dir);
    if (!app.server.listening) await once(app.server, 'listening');
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await strata?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the cached route from the server cache on the second request', async () => {
    const first = await fetch(`${base}/api/items`);
    expect(await first.json()).toEqual([{ id: 1, name: 'Ada' }]);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await fetch(`${base}/api/items`);
    await second.arrayBuffer();
    expect(second.headers.get('x-cache')).toBe('HIT');
  });

  it('delivers a purge made through the admin API on the purge stream, and notices the client leaving', async () => {
    const received: { tags: string[] }[] = [];
    const source = new EventSource(`${base}/strata/events`);
    source.addEventListener('message', (event) => received.push(JSON.parse(event.data)));
    await new Promise<void>((resolve, reject) => {
      source.addEventListener('open', () => resolve(), { once: true });
      source.addEventListener('error', () => reject(new Error('the purge stream did not open')), { once: true });
    });
    expect((await strata.stats()).sse.open).toBe(1);

    const purge = await admin('/invalidate', { method: 'POST', body: JSON.stringify({ tags: ['items'] }) });
    expect(purge.status).toBe(202);
    expect(await purge.json()).toMatchObject({ queued: false });
    await expect.poll(() => received).toEqual([purgeData(['items'])]);

    const after = await fetch(`${base}/api/items`);
    await after.arrayBuffer();
    expect(after.headers.get('x-cache')).toBe('MISS');

    source.close();
    await expect.poll(async () => (await strata.stats()).sse.open).toBe(0);
  });

  it('answers the admin API only with the token', async () => {
    const stats = await admin('/stats');
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ totals: { hit: expect.any(Number) } });
    expect((await fetch(`${base}/api/v1/cache/stats`)).status).toBe(401);
  });

  it('exposes the metrics to the admin token only', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('strata_cache_lookups_total{route="/api/items",outcome="hit"}');
  });

  it('serves static files with the manifest policy, and nothing to warn about', async () => {
    const res = await fetch(`${base}/static/assets/app.js`);
    expect(await res.text()).toBe('console.log("app");\n');
    expect(res.headers.get('cache-control')).toBe(`max-age=${7 * DAY}, immutable`);
    expect(warnings).toEqual([]);
  });
});
