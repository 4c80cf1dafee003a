import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();
const TOKEN = 'admin-token-for-the-tests';
const base = 'http://app.test/api/v1/cache';

function call(
  strata: ReturnType<typeof make>,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return strata.admin(
    new Request(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }),
  );
}

async function errorOf(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(typeof body.error.message).toBe('string');
  return body.error.code;
}

const ENDPOINTS: [string, string, unknown?][] = [
  ['GET', '/stats'],
  ['GET', '/query-stats'],
  ['POST', '/invalidate', { tags: ['users'] }],
  ['POST', '/clear-all', { confirm: 'clear-all' }],
  ['POST', '/warm', {}],
  ['GET', '/key/x'],
  ['DELETE', '/key/x'],
  ['GET', '/tags'],
  ['GET', '/performance-report'],
];

describe('admin API authorization', () => {
  it.each(ENDPOINTS)('%s %s: 401 without credentials, 403 with wrong ones', async (method, path, body) => {
    const strata = make({ admin: { token: TOKEN } });
    const missing = await call(strata, method, path, body, null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await errorOf(missing)).toBe('E_UNAUTHORIZED');
    const wrong = await call(strata, method, path, body, 'not-the-token');
    expect(wrong.status).toBe(403);
    expect(await errorOf(wrong)).toBe('E_FORBIDDEN');
  });

  it('is closed (404) when no admin auth is configured', async () => {
    const strata = make();
    for (const [method, path, body] of ENDPOINTS) expect((await call(strata, method, path, body)).status).toBe(404);
  });

  it('accepts an authorize hook instead of a token', async () => {
    const strata = make({ admin: { authorize: (request) => request.headers.get('x-role') === 'ops' } });
    const ok = await strata.admin(new Request(`${base}/stats`, { headers: { 'x-role': 'ops' } }));
    expect(ok.status).toBe(200);
    const denied = await strata.admin(new Request(`${base}/stats`, { headers: { 'x-role': 'guest' } }));
    expect(denied.status).toBe(403);
  });
});

describe('admin API endpoints', () => {
  it('GET /stats: hit ratio, counters, store health, bus, outbox, SSE clients, warming', async () => {
    const strata = make({ admin: { token: TOKEN } });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    await strata.handle(get('/api/users/1'), app);
    const stats = (await (await call(strata, 'GET', '/stats')).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({
      totals: { hit: 1, miss: 1, hitRatio: 0.5 },
      store: { level: 'MEMORY', circuit: 'closed', entries: 1 },
      outbox: 0,
      sse: { open: 0 },
      warming: [],
    });
    expect(stats.bus).toMatchObject({ subscribers: expect.any(Number) });
  });

  it('POST /invalidate purges and answers 202 with the purge id', async () => {
    const strata = make({ admin: { token: TOKEN } });
    const app = origin();
    await strata.handle(get('/api/users/1'), app);
    const response = await call(strata, 'POST', '/invalidate', { tags: ['user:1'] });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ id: expect.any(String), queued: false, tags: ['user:1'] });
    expect((await strata.handle(get('/api/users/1'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('POST /invalidate with mode soft marks the entries stale instead of dropping them', async () => {
    const strata = make({ admin: { token: TOKEN } });
    const app = origin();
    await strata.handle(get('/api/users'), app);
    const response = await call(strata, 'POST', '/invalidate', { tags: ['users'], mode: 'soft' });
    expect(response.status).toBe(202);
    const stale = await strata.handle(get('/api/users'), app);
    expect(stale.headers.get('cache-status')).toMatch(/^strata; hit; ttl=-\d+; detail=soft-purge$/);
  });

  it('POST /clear-all requires its confirmation field', async () => {
    const strata = make({ admin: { token: TOKEN } });
    for (const body of [{}, { confirm: true }, { confirm: 'yes' }]) {
      const response = await call(strata, 'POST', '/clear-all', body);
      expect(response.status).toBe(400);
      expect(await errorOf(response)).toBe('E_BAD_REQUEST');
    }
    expect((await call(strata, 'POST', '/clear-all', { confirm: 'clear-all' })).status).toBe(202);
  });

  it('POST /warm runs the named jobs, or all; an unknown job is a 400', async () => {
    const strata = make({ admin: { token: TOKEN } });
    const ran: string[] = [];
    strata.warm.register('a', async () => void ran.push('a'));
    strata.warm.register('b', async () => void ran.push('b'));
    const one = await call(strata, 'POST', '/warm', { jobs: ['b'] });
    expect(await one.json()).toMatchObject({ runs: [{ name: 'b', ok: true }] });
    await call(strata, 'POST', '/warm');
    expect(ran.sort()).toEqual(['a', 'b', 'b']);
    const unknown = await call(strata, 'POST', '/warm', { jobs: ['nope'] });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: { code: 'E_WARM_JOB_UNKNOWN' } });
  });

  it('GET and DELETE /key/:key inspect and drop one entry', async () => {
    const strata = make({ admin: { token: TOKEN } });
    await strata.handle(get('/api/users/1'), origin());
    const key = encodeURIComponent('GET http://app.test/api/users/1');
    const inspected = (await (await call(strata, 'GET', `/key/${key}`)).json()) as Record<string, unknown>;
    expect(inspected).toMatchObject({ status: 200, fresh: true, purged: false, tags: ['users', 'user:1'] });
    await strata.purge({ tags: ['user:1'] });
    expect(await (await call(strata, 'GET', `/key/${key}`)).json()).toMatchObject({ purged: true });
    expect((await call(strata, 'DELETE', `/key/${key}`)).status).toBe(200);
    expect((await call(strata, 'GET', `/key/${key}`)).status).toBe(404);
    expect((await call(strata, 'DELETE', `/key/${key}`)).status).toBe(404);
  });

  it('GET /tags counts entries per tag', async () => {
    const strata = make({ admin: { token: TOKEN } });
    for (const id of [1, 2]) await strata.handle(get(`/api/users/${id}`), origin());
    const body = (await (await call(strata, 'GET', '/tags')).json()) as { tags: { tag: string; entries: number }[] };
    expect(body.tags).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tag: 'users', entries: 2 }),
        expect.objectContaining({ tag: 'user:1', entries: 1 }),
      ]),
    );
  });

  it('GET /query-stats reports the data cache', async () => {
    const strata = make({ admin: { token: TOKEN } });
    await strata.cached('q', async () => 1);
    await strata.cached('q', async () => 1);
    expect(await (await call(strata, 'GET', '/query-stats')).json()).toMatchObject({
      tracked: 1,
      top: [{ key: 'q', hits: 1, misses: 1 }],
    });
  });

  it('GET /performance-report gives windows and advice naming the weak routes', async () => {
    const strata = make({ admin: { token: TOKEN } });
    const app = origin();
    for (let i = 0; i < 30; i++) await strata.handle(get(`/api/users/${i}`), app); // all misses
    const report = (await (await call(strata, 'GET', '/performance-report')).json()) as {
      windows: { last5m: Record<string, unknown> };
      recommendations: { problem: string }[];
    };
    expect(report.windows.last5m['/api/users/:id']).toMatchObject({ miss: 30 });
    expect(report.recommendations.map((r) => r.problem).join('\n')).toMatch(/Low hit ratio.*\/api\/users\/:id 0%/);
  });
});

describe('admin API bad requests', () => {
  it('validates bodies: unknown fields, wrong types, invalid tags and patterns, bad JSON, size', async () => {
    const strata = make({ admin: { token: TOKEN } });
    const cases: [unknown, number, string][] = [
      [{ tags: ['ok'], extra: 1 }, 400, 'E_BAD_REQUEST'],
      [{ tags: 'users' }, 400, 'E_BAD_REQUEST'],
      [{ tags: ['not ok'] }, 400, 'E_TAG_INVALID'],
      [{ pattern: '' }, 400, 'E_BAD_REQUEST'],
      [{ table: 'a;b' }, 400, 'E_TABLE_INVALID'],
      [{ keys: ['ftp://x/a'] }, 400, 'E_URL_INVALID'],
      [{ tags: ['ok'], mode: 'gentle' }, 400, 'E_BAD_REQUEST'],
      [{}, 400, 'E_BAD_REQUEST'],
      [{ tags: ['x'.repeat(70_000)] }, 413, 'E_BODY_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const response = await call(strata, 'POST', '/invalidate', body);
      expect(response.status, JSON.stringify(body).slice(0, 60)).toBe(status);
      expect(await errorOf(response)).toBe(code);
    }
    const badJson = await strata.admin(
      new Request(`${base}/invalidate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: '{"tags": [',
      }),
    );
    expect(badJson.status).toBe(400);
    const notJson = await strata.admin(
      new Request(`${base}/invalidate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: 'tags=x',
      }),
    );
    expect(notJson.status).toBe(415);
  });

  it('answers unknown paths 404 and wrong methods 405 with Allow', async () => {
    const strata = make({ admin: { token: TOKEN } });
    expect((await call(strata, 'GET', '/nope')).status).toBe(404);
    const wrong = await call(strata, 'GET', '/invalidate');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('fuzz: any body to any endpoint gets a 2xx or a 4xx JSON answer, never a 5xx', async () => {
    const strata = make({ admin: { token: TOKEN } });
    strata.warm.register('job', async () => {});
    const json = fc.jsonValue({ maxDepth: 3 });
    const bodies = fc.oneof(
      json.map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            tags: fc.array(fc.string(), { maxLength: 5 }),
            keys: fc.array(fc.string(), { maxLength: 3 }),
            pattern: fc.string(),
            table: fc.string(),
            jobs: fc.array(fc.constantFrom('job', 'other', ''), { maxLength: 3 }),
            confirm: fc.constantFrom('clear-all', 'no', 1),
            partition: fc.string(),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.string(),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS.map(([method, path]) => [method, path] as const), [
          'GET',
          '/key/%E0%A4%A',
        ] as const),
        bodies,
        async ([method, path], body) => {
          const hasBody = method === 'POST';
          const response = await strata.admin(
            new Request(`${base}${path}`, {
              method,
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              ...(hasBody ? { body } : {}),
            }),
          );
          expect(response.status).toBeGreaterThanOrEqual(200);
          expect(response.status).toBeLessThan(500);
          expect(response.headers.get('content-type')).toMatch(/^application\/json/);
          await response.json();
        },
      ),
      { numRuns: 300 },
    );
  });
});
