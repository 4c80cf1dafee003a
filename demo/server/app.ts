import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { matchRoute } from '@strata/policy';
import { createStrata, memoryBus, memoryStore, type Purger, type Strata, varnishPurger } from '@strata/server';
import { redisBus, redisStore } from '@strata/server/redis';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { ROLES, TEAMS } from '../common/api.js';
import manifest from '../strata.manifest.js';
import { ACCOUNTS, type Account, demoAuth } from './auth.js';
import type { DemoConfig } from './config.js';
import { type DemoData, openData } from './data.js';

/** The page routes the front end answers (a single-page app: each is index.html). */
const PAGES = ['/', '/users', '/users/:id', '/users/:id/edit', '/dashboard', '/login', '/admin'];
const PER_PAGE_MAX = 100;
/** Methods counted by name; any other counts as `OTHER`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Most distinct counters kept (routes × methods stay far below it); beyond, `(other)`. */
const MAX_COUNTERS = 256;
/** A user id as the demo writes it: decimal, no sign, no leading zero, no exponent. */
const CANONICAL_ID = /^[1-9][0-9]{0,15}$/;

export interface Demo {
  strata: Strata;
  data: DemoData;
  /** The whole app, Strata around the Hono routes: Request in, Response out. */
  fetch(request: Request): Promise<Response>;
  /** The Hono routes alone, without Strata (the origin). */
  origin(request: Request): Promise<Response>;
  /**
   * Requests that reached the origin, per method and manifest route (`GET /api/v1/users/:id`…);
   * paths no route matches, and methods outside the standard ones, count under `(other)`.
   */
  readonly originHits: Record<string, number>;
  close(): Promise<void>;
}

const patchSchema = z
  .object({
    name: z.string().trim().min(1, 'name must not be empty').max(100),
    email: z.email(),
    role: z.enum(ROLES),
    team: z.enum(TEAMS),
    bio: z.string().max(500),
  })
  .partial()
  .strict();

function jsonError(c: Context, status: 400 | 401 | 404 | 413 | 415, code: string, message: string, extra = {}) {
  return c.json({ error: { code, message, ...extra } }, status);
}

/** The demo app: its data, its Strata instance (memory or Redis) and its routes. */
export async function createDemo(config: DemoConfig): Promise<Demo> {
  const auth = demoAuth(config.secret);
  const cdn: Purger[] = config.varnishUrl ? [varnishPurger({ url: config.varnishUrl })] : [];
  const strata = createStrata({
    manifest,
    store: config.redisUrl
      ? redisStore({ url: config.redisUrl, prefix: 'strata-demo:' })
      : memoryStore({ maxEntries: config.storeMaxEntries, maxBytes: config.storeMaxBytes }),
    bus: config.redisUrl ? redisBus({ url: config.redisUrl, stream: 'strata-demo:purges' }) : memoryBus(),
    cdn,
    admin: { token: config.adminToken },
    // Private routes (`/api/v1/me`) are cached per signed-in user.
    partition: (request) => auth.accountOf(request)?.username,
    enabled: config.enabled,
    ...(config.defaultTtl !== undefined ? { defaultTtl: config.defaultTtl } : {}),
  });
  const data = await openData(strata, {
    databaseUrl: config.databaseUrl,
    delayMs: config.delayMs,
    work: config.dbWork,
    seedUsers: config.seedUsers,
    queryCache: config.cache,
  });

  const originHits: Record<string, number> = Object.create(null);
  // Counted by route pattern, never by raw path: unique paths cannot grow the counters.
  const countOriginHit = (method: string, path: string) => {
    const route = matchRoute(manifest, path, 'GET')?.route.match;
    if (route?.startsWith('/api/v1/demo')) return;
    let name = `${METHODS.has(method) ? method : 'OTHER'} ${route ?? '(other)'}`;
    if (!(name in originHits) && Object.keys(originHits).length >= MAX_COUNTERS) name = '(other)';
    originHits[name] = (originHits[name] ?? 0) + 1;
  };
  const app = new Hono();

  // Counts what reaches the origin, per manifest route: the e2e suite and the benchmarks prove
  // which layer answered by these counters staying put.
  app.use('/api/v1/*', async (c, next) => {
    // Every method is named by the route its GET matches: a write counts under the record it changes.
    countOriginHit(c.req.method, c.req.path);
    await next();
  });

  app.get('/api/v1/users', async (c) => {
    const page = Number(c.req.query('page') ?? '1');
    const perPage = Number(c.req.query('perPage') ?? '20');
    if (!Number.isInteger(page) || page < 1) return jsonError(c, 400, 'E_BAD_PAGE', 'page must be a positive integer');
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > PER_PAGE_MAX) {
      return jsonError(c, 400, 'E_BAD_PAGE', `perPage must be an integer from 1 to ${PER_PAGE_MAX}`);
    }
    return c.json(await data.usersPage(page, perPage));
  });

  // Only the canonical form names a user: `01`, `1e0` or `+1` would be cached under tags of
  // their own (`user:01`) that a purge of `user:1` never reaches, so they are not users at all.
  const userId = (c: Context): number | undefined => {
    const raw = c.req.param('id') ?? '';
    if (!CANONICAL_ID.test(raw)) return undefined;
    const id = Number(raw);
    return Number.isSafeInteger(id) ? id : undefined;
  };

  app.get('/api/v1/users/:id', async (c) => {
    const id = userId(c);
    const user = id === undefined ? undefined : await data.user(id);
    if (!user) return jsonError(c, 404, 'E_NOT_FOUND', `no user ${c.req.param('id')}`);
    return c.json(user);
  });

  app.put('/api/v1/users/:id', async (c) => {
    const account = auth.accountOf(c.req.raw);
    if (!account) return jsonError(c, 401, 'E_UNAUTHORIZED', 'sign in to edit users');
    const id = userId(c);
    if (id === undefined) return jsonError(c, 404, 'E_NOT_FOUND', `no user ${c.req.param('id')}`);
    if (!(c.req.header('content-type') ?? '').includes('application/json')) {
      return jsonError(c, 415, 'E_UNSUPPORTED_MEDIA_TYPE', 'send the changes as application/json');
    }
    const body = await c.req.json().catch(() => undefined);
    const parsed = patchSchema.safeParse(body);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
      return jsonError(c, 400, 'E_INVALID_USER', 'the changes are not valid', { issues });
    }
    // The manifest's write rule purges `user:{id}` and `users` once this answers 200, in one event
    // with the query cache's row and list tags, kept off the broadcast (strata.handle collects the
    // purges a write makes).
    const updated = await data.updateUser(id, parsed.data);
    if (!updated) return jsonError(c, 404, 'E_NOT_FOUND', `no user ${id}`);
    if (!config.cache) return c.json({ user: updated, purged: [] });
    const purged = matchRoute(manifest, c.req.url, 'PUT')?.invalidates ?? [];
    // A demo account's own record is also cached privately, for its owner only. That purge stays
    // here: who owns a record is a fact of the data, not of the route, and a purge event reaches
    // one user's browsers or everyone's, so it travels apart, to the owner's.
    const owner = ACCOUNTS.find((a) => a.userId === id);
    if (owner) await strata.purge({ tags: ['me'], partition: owner.username });
    return c.json({ user: updated, purged: owner ? [...purged, 'me'] : purged });
  });

  app.get('/api/v1/dashboard', async (c) => {
    const account = auth.accountOf(c.req.raw);
    const dashboard = await data.dashboard();
    return c.json({ ...dashboard, viewer: account?.label ?? null, generatedAt: new Date().toISOString() });
  });

  app.get('/api/v1/me', async (c) => {
    const account = auth.accountOf(c.req.raw);
    if (!account) return jsonError(c, 401, 'E_UNAUTHORIZED', 'not signed in');
    const user = await data.user(account.userId);
    return c.json({ username: account.username, label: account.label, user: user ?? null });
  });

  app.get('/api/v1/auth/accounts', (c) => c.json({ accounts: ACCOUNTS }));
  app.post('/api/v1/auth/login', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { username?: unknown } | undefined;
    const account = ACCOUNTS.find((a) => a.username === body?.username) as Account | undefined;
    if (!account) {
      const names = ACCOUNTS.map((a) => a.username).join(' or ');
      return jsonError(c, 400, 'E_UNKNOWN_ACCOUNT', `username must be ${names}`);
    }
    return c.json({ token: auth.tokenFor(account), account });
  });
  // Tokens are stateless: signing out is the browser forgetting its token and its partition.
  app.post('/api/v1/auth/logout', (c) => c.body(null, 204));

  app.get('/api/v1/demo/info', (c) =>
    c.json({
      instance: config.instance,
      store: config.redisUrl ? 'redis' : 'memory',
      bus: config.redisUrl ? 'redis' : 'memory',
      database: data.driver,
      cdn: config.varnishUrl ? 'varnish' : null,
      cache: config.cache,
      delayMs: config.delayMs,
      dbWork: config.dbWork,
      manifestVersion: manifest.version,
    }),
  );
  app.get('/api/v1/demo/counters', (c) =>
    c.json({ instance: config.instance, origin: originHits, statements: data.statements }),
  );

  app.all('/api/v1/cache/*', (c) => strata.admin(c.req.raw));
  app.all('/api/v1/cache', (c) => strata.admin(c.req.raw));
  app.get('/strata/events', (c) => strata.events(c.req.raw));
  app.get('/metrics', (c) => strata.metrics(c.req.raw));
  app.get('/healthz', (c) => c.text('ok'));

  app.all('/api/*', (c) => jsonError(c, 404, 'E_NOT_FOUND', `no API route ${c.req.method} ${c.req.path}`));

  // The built front end: hashed assets under /static, the worker at /sw.js, index.html per page.
  const index = join(config.staticDir, 'index.html');
  if (existsSync(config.staticDir)) {
    const files = serveStatic({ root: config.staticDir });
    for (const path of ['/static/*', '/sw.js', '/favicon.svg']) app.use(path, files);
  }
  // Any other page a browser asks for is the app too, answering 404: it shows its own not-found view.
  app.get('*', async (c) => {
    const page = matchRoute(manifest, c.req.path);
    const known = page !== undefined && PAGES.includes(page.route.match);
    if (!known && !(c.req.header('accept') ?? '').includes('text/html')) return c.text('Not Found', 404);
    if (!existsSync(index)) {
      return c.text('The front end is not built: run `npm start` (or `npm run build`).', 503);
    }
    return c.html(await readFile(index, 'utf8'), known ? 200 : 404);
  });

  const origin = async (request: Request) => app.fetch(request);
  const canonical = config.origin;
  const handle = (request: Request) => (config.cache ? strata.handle(request, origin) : origin(request));
  const fetch = (request: Request): Promise<Response> => {
    // One origin in cache keys, whichever name the client used (localhost, 127.0.0.1…).
    if (!canonical || request.url.startsWith(`${canonical}/`)) return handle(request);
    const { pathname, search } = new URL(request.url);
    return handle(new Request(new URL(pathname + search, canonical), request));
  };

  // Warmers refill what a purge or a restart emptied, through the same path as a request.
  const warmOrigin = canonical ?? `http://localhost:${config.port}`;
  const warm = (path: string) => async () => {
    const response = await fetch(new Request(new URL(path, warmOrigin)));
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    return response.headers.get('x-cache');
  };
  const schedule = {
    onStartup: config.warmOnStartup,
    ...(config.warmIntervalSeconds !== undefined ? { intervalSeconds: config.warmIntervalSeconds } : {}),
  };
  strata.warm.register('users-first-page', warm('/api/v1/users'), schedule);
  strata.warm.register('dashboard', warm('/api/v1/dashboard'), schedule);

  return {
    strata,
    data,
    fetch,
    origin,
    originHits,
    async close() {
      await strata.close();
      await data.close();
    },
  };
}
