import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemo, type Demo } from '../server/app.js';
import { demoConfig } from '../server/config.js';

let demo: Demo;
const ADMIN = 'test-admin-token';
const get = (path: string, init: RequestInit = {}) => demo.fetch(new Request(`http://localhost:3000${path}`, init));

beforeAll(async () => {
  demo = await createDemo(
    demoConfig({ DEMO_DELAY_MS: '0', DEMO_USERS: '20', STRATA_ADMIN_TOKEN: ADMIN, DEMO_STATIC_DIR: '/nonexistent' }),
  );
}, 30_000);

afterAll(async () => {
  await demo.close();
});

describe('the demo’s own state is bounded', () => {
  it('3,000 long unique paths keep the origin counters to a handful of entries', async () => {
    for (let i = 0; i < 3_000; i++) {
      const tail = `${i}-${'x'.repeat(1_000)}`;
      await (await get(`/api/v1/no-such-route/${tail}`)).arrayBuffer();
      if (i % 10 === 0) await (await get(`/api/v1/users/${tail}`)).arrayBuffer();
    }
    await (await get('/api/v1/users/1', { method: 'PATCH' })).arrayBuffer(); // a method of its own
    await (await get('/api/v1/users/1', { method: 'PROPFIND' })).arrayBuffer(); // any other method
    const response = await get('/api/v1/demo/counters');
    const text = await response.text();
    const counters = JSON.parse(text) as { origin: Record<string, number> };
    expect(Object.keys(counters.origin).length).toBeLessThanOrEqual(10);
    expect(text.length).toBeLessThan(2_000);
    expect(counters.origin['GET (other)']).toBe(3_000);
    expect(counters.origin['GET /api/v1/users/:id']).toBeGreaterThanOrEqual(300);
    expect(counters.origin['OTHER /api/v1/users/:id']).toBe(1);
  }, 30_000);
});

describe('only canonical user ids name a user', () => {
  it('answers 404 for 01, 1e0, %2B1 and other spellings of 1, and caches no user under them', async () => {
    const canonical = await get('/api/v1/users/1');
    expect(canonical.status).toBe(200);
    const user = (await canonical.json()) as { name: string };
    for (const id of ['01', '001', '1e0', '%2B1', '+1', '1.0', '0x1', '%201', '1%20', '0']) {
      for (let i = 0; i < 2; i++) {
        const response = await get(`/api/v1/users/${id}`);
        expect(response.status, id).toBe(404);
        const text = await response.text();
        expect(JSON.parse(text).error.code, id).toBe('E_NOT_FOUND');
        expect(text, id).not.toContain(user.name);
      }
    }
  });

  it('refuses edits through a non-canonical id', async () => {
    const login = await get('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice' }),
    });
    const { token } = (await login.json()) as { token: string };
    const response = await get('/api/v1/users/01', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ bio: 'edited through 01' }),
    });
    expect(response.status).toBe(404);
    expect(await (await get('/api/v1/users/1')).text()).not.toContain('edited through 01');
  });
});
