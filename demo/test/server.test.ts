import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeListener } from '@strata/server/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo, type Demo } from '../server/app.js';
import { demoConfig } from '../server/config.js';

let demo: Demo;
let server: Server;
let base: string;
const ADMIN = 'test-admin-token';

beforeAll(async () => {
  demo = await createDemo(
    demoConfig({ DEMO_DELAY_MS: '0', DEMO_USERS: '50', STRATA_ADMIN_TOKEN: ADMIN, DEMO_STATIC_DIR: '/nonexistent' }),
  );
  server = createServer(nodeListener(demo.strata, demo.origin));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 30_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await demo.close();
});

async function tokenOf(username: string): Promise<string> {
  const response = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username }),
  });
  return ((await response.json()) as { token: string }).token;
}

const put = (id: number | string, body: unknown, token?: string) =>
  fetch(`${base}/api/v1/users/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('demo configuration', () => {
  it('defaults to the embedded setup and a generated admin token', () => {
    const config = demoConfig({});
    expect(config).toMatchObject({ port: 3000, delayMs: 150, dbWork: 0, seedUsers: 1000, adminTokenGenerated: true });
    expect(config.redisUrl).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.adminToken.length).toBeGreaterThanOrEqual(20);
  });

  it('reads the database work per statement, and refuses a negative one', () => {
    expect(demoConfig({ DEMO_DB_WORK: '30000' }).dbWork).toBe(30_000);
    expect(() => demoConfig({ DEMO_DB_WORK: '-5' })).toThrow(/DEMO_DB_WORK must be an integer/);
  });

  it('names every bad variable at once', () => {
    expect(() =>
      demoConfig({ PORT: 'eighty', DEMO_DELAY_MS: '-1', DEMO_ORIGIN: 'not a url', STRATA_ENABLED: 'maybe' }),
    ).toThrow(
      /PORT[\s\S]*DEMO_DELAY_MS[\s\S]*DEMO_ORIGIN|STRATA_ENABLED[\s\S]*PORT[\s\S]*DEMO_DELAY_MS[\s\S]*DEMO_ORIGIN/,
    );
  });
});

describe('demo API', () => {
  it('serves a page of users with the manifest headers, then from the server cache', async () => {
    const first = await fetch(`${base}/api/v1/users?page=2&perPage=10`);
    expect(first.status).toBe(200);
    expect(first.headers.get('surrogate-key')).toBe('users');
    expect(first.headers.get('x-cache')).toBe('MISS');
    const body = (await first.json()) as { users: { id: number }[]; total: number; pages: number };
    expect(body.users.map((u) => u.id)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(body).toMatchObject({ total: 50, pages: 5 });
    const second = await fetch(`${base}/api/v1/users?page=2&perPage=10`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    await second.arrayBuffer();
  });

  it('refuses bad pages and unknown users with JSON errors', async () => {
    for (const query of ['page=0', 'page=x', 'perPage=1000']) {
      const response = await fetch(`${base}/api/v1/users?${query}`);
      expect(response.status, query).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('E_BAD_PAGE');
    }
    for (const id of ['999', 'abc', '-1']) {
      const response = await fetch(`${base}/api/v1/users/${id}`);
      expect(response.status, id).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('E_NOT_FOUND');
    }
  });

  it('edits need a valid token and valid fields, and report every bad field', async () => {
    expect((await put(3, { name: 'X' })).status).toBe(401);
    expect((await put(3, { name: 'X' }, 'alice.forged')).status).toBe(401);
    const token = await tokenOf('alice');
    const bad = await put(3, { name: '', email: 'nope', role: 'owner', extra: 1 }, token);
    expect(bad.status).toBe(400);
    const { error } = (await bad.json()) as { error: { code: string; issues: { path: string }[] } };
    expect(error.code).toBe('E_INVALID_USER');
    expect(error.issues.map((i) => i.path).sort()).toEqual(['', 'email', 'name', 'role']);
  });

  it('an edit purges the record and the list: the next reads miss and show the change', async () => {
    await (await fetch(`${base}/api/v1/users/4`)).arrayBuffer();
    const cached = await fetch(`${base}/api/v1/users/4`);
    expect(cached.headers.get('x-cache')).toBe('HIT');
    await cached.arrayBuffer();
    const list = await fetch(`${base}/api/v1/users?perPage=5`);
    await list.arrayBuffer();

    const token = await tokenOf('bob');
    const purgesBefore = (await demo.strata.stats()).purges;
    const edited = await put(4, { name: 'Edsger Renamed', team: 'Search' }, token);
    expect(edited.status).toBe(200);
    expect(await edited.json()).toMatchObject({
      user: { id: 4, name: 'Edsger Renamed', team: 'Search' },
      purged: ['user:4', 'users'],
    });
    // The manifest's write rule, the written URL and the query cache's table tag: one purge event.
    expect((await demo.strata.stats()).purges - purgesBefore).toBe(1);

    const after = await fetch(`${base}/api/v1/users/4`);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(((await after.json()) as { name: string }).name).toBe('Edsger Renamed');
    const listAfter = await fetch(`${base}/api/v1/users?perPage=5`);
    expect(listAfter.headers.get('x-cache')).toBe('MISS');
    expect(JSON.stringify(await listAfter.json())).toContain('Edsger Renamed');
  });

  it('an edit of a demo account’s own record also purges its owner’s `me`, as a second event to her browsers', async () => {
    const alice = await tokenOf('alice');
    const me = () => fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${alice}` } });
    await (await me()).arrayBuffer();
    const cached = await me();
    expect(cached.headers.get('x-cache')).toBe('HIT');
    await cached.arrayBuffer();
    const purgesBefore = (await demo.strata.stats()).purges;
    const edited = await put(1, { bio: 'Edited by Bob' }, await tokenOf('bob'));
    expect(await edited.json()).toMatchObject({ purged: ['user:1', 'users', 'me'] });
    expect((await demo.strata.stats()).purges - purgesBefore).toBe(2);
    const after = await me();
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(((await after.json()) as { user: { bio: string } }).user.bio).toBe('Edited by Bob');
  });

  it('keeps /api/v1/me per user and never answers it without a token', async () => {
    expect((await fetch(`${base}/api/v1/me`)).status).toBe(401);
    for (const username of ['alice', 'bob', 'alice']) {
      const response = await fetch(`${base}/api/v1/me`, {
        headers: { authorization: `Bearer ${await tokenOf(username)}` },
      });
      expect(response.headers.get('cache-control')).toMatch(/^private/);
      expect(((await response.json()) as { username: string }).username).toBe(username);
    }
  });

  it('counts what reaches the origin, and guards the admin API with the token', async () => {
    const before = (await (await fetch(`${base}/api/v1/demo/counters`)).json()) as { origin: Record<string, number> };
    await (await fetch(`${base}/api/v1/dashboard`)).arrayBuffer();
    await (await fetch(`${base}/api/v1/dashboard`)).arrayBuffer();
    const after = (await (await fetch(`${base}/api/v1/demo/counters`)).json()) as { origin: Record<string, number> };
    const route = 'GET /api/v1/dashboard';
    expect((after.origin[route] ?? 0) - (before.origin[route] ?? 0)).toBe(1);

    expect((await fetch(`${base}/api/v1/cache/stats`)).status).toBe(401);
    const stats = await fetch(`${base}/api/v1/cache/stats`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(stats.status).toBe(200);
    await stats.arrayBuffer();
  });

  it('says the front end is not built instead of failing', async () => {
    const response = await fetch(`${base}/users`);
    expect(response.status).toBe(503);
    expect(await response.text()).toMatch(/not built/);
    const unknown = await fetch(`${base}/no/such/page`);
    expect(unknown.status).toBe(404);
    await unknown.arrayBuffer();
  });
});

describe('DEMO_CACHE=off', () => {
  it('serves the same app with no cache headers and every read reaching the database', async () => {
    const bare = await createDemo(
      demoConfig({ DEMO_CACHE: 'off', DEMO_DELAY_MS: '0', DEMO_USERS: '20', DEMO_STATIC_DIR: '/nonexistent' }),
    );
    try {
      const before = bare.data.statements;
      for (let i = 0; i < 2; i++) {
        const response = await bare.fetch(new Request('http://demo.test/api/v1/users/3'));
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBeNull();
        expect(response.headers.get('x-cache')).toBeNull();
        expect(((await response.json()) as { id: number }).id).toBe(3);
      }
      expect(bare.data.statements - before).toBe(2);
      expect(bare.data.queryCache).toBeUndefined();
    } finally {
      await bare.close();
    }
    // Starting a second PGlite database takes seconds on a loaded two-core machine.
  }, 30_000);

  it('accepts only on or off', () => {
    expect(() => demoConfig({ DEMO_CACHE: 'maybe' })).toThrow(/DEMO_CACHE must be on or off/);
  });
});
