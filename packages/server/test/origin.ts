import { defineManifest, fullCache, type Manifest, noStore, serverCache } from '@strata/policy';
import { createStrata, memoryStore, type StrataOptions } from '@strata/server';
import { afterEach } from 'vitest';

/** The manifest most server tests share. */
export const manifest: Manifest = defineManifest({
  version: 1,
  routes: [
    { match: '/api/users/:id', policy: serverCache(60, { tags: ['users', 'user:{id}'], staleIfError: 300 }) },
    { match: '/api/users', policy: serverCache(60, { tags: ['users'], staleWhileRevalidate: 30 }) },
    { match: '/api/lang', policy: serverCache(60, { vary: ['accept-language'] }) },
    { match: '/api/me', policy: serverCache(60, { scope: 'private', tags: ['me'] }) },
    { match: '/api/strict', policy: serverCache(60, { mustRevalidate: true }) },
    { match: '/api/dashboard', policy: fullCache(60, { tags: ['dashboard'], vary: ['authorization'] }) },
    { match: '/api/files/*', policy: serverCache(60) },
    { match: '/auth/*', methods: ['GET', 'POST'], policy: noStore() },
  ],
});

/** A manifest with write rules: reads tagged per user and as a list, writes that purge both. */
export const writeManifest: Manifest = defineManifest({
  version: 'writes',
  routes: [
    { match: '/api/users', policy: fullCache(60, { tags: ['users'] }) },
    { match: '/api/users/:id', policy: fullCache(60, { tags: ['user:{id}'] }) },
    { match: '/api/me', policy: serverCache(60, { scope: 'private', tags: ['me'] }) },
    { match: '/api/users/:id', methods: ['PUT', 'DELETE'], policy: noStore(), invalidates: ['user:{id}', 'users'] },
    { match: '/api/users', methods: ['POST'], policy: noStore(), invalidates: ['users'] },
  ],
});

export interface Origin {
  (request: Request): Promise<Response>;
  calls: number;
  requests: Request[];
  /** What the next responses look like; receives the call number. */
  respond: (request: Request, call: number) => Response | Promise<Response>;
}

/** An origin handler that counts its calls and answers with `respond` (default: 200 with the call number). */
export function origin(respond?: Origin['respond']): Origin {
  const handler = (async (request: Request) => {
    handler.calls++;
    handler.requests.push(request);
    return handler.respond(request, handler.calls);
  }) as Origin;
  handler.calls = 0;
  handler.requests = [];
  handler.respond =
    respond ?? ((_request, call) => new Response(`body ${call}`, { headers: { 'content-type': 'text/plain' } }));
  return handler;
}

/** A clock tests move by hand. */
export function clock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance: (seconds: number) => {
      t += seconds * 1000;
    },
  };
}

export function strataFor(options: Partial<StrataOptions> & { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  return createStrata({ manifest, store: memoryStore({ now }), ...options, now });
}

export const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`http://app.test${path}`, { headers });

/** A factory of Strata instances that are all closed after each test of the calling file. */
export function strataPerTest() {
  const instances: ReturnType<typeof strataFor>[] = [];
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((s) => s.close()));
  });
  return (options: Parameters<typeof strataFor>[0] = {}) => {
    const strata = strataFor(options);
    instances.push(strata);
    return strata;
  };
}

/** A promise the test opens by hand: an origin awaits `gate`, the test calls `release()`. */
export function barrier(): { gate: Promise<void>; release: () => void } {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { gate, release };
}
