import {
  browserCache,
  cdnCache,
  defineManifest,
  fullCache,
  headersFor,
  headersForRequest,
  noStore,
  type Policy,
  serverCache,
} from '@strata/policy';
import { describe, expect, it } from 'vitest';

const directives = (value: string | undefined) => (value ?? '').split(', ').filter(Boolean);

describe('headersFor', () => {
  // `cache-control` for the browser; the CDN's view in both targeted fields (RFC 9213 and Surrogate-Control).
  it.each([
    ['browserCache: private, so no shared cache stores it', browserCache(300), 'private, max-age=300', 'no-store'],
    [
      'cdnCache: shared caches may store it, the CDN view is in both targeted fields',
      cdnCache(3600, { browserTtl: 120 }),
      'max-age=120',
      'max-age=3600',
    ],
    [
      'serverCache: the browser may keep it privately, the CDN may not store it',
      serverCache(600),
      'private, max-age=600',
      'no-store',
    ],
  ])('%s', (_name, policy, browser, cdn) => {
    expect(headersFor(policy)).toEqual({
      'cache-control': browser,
      'cdn-cache-control': cdn,
      'surrogate-control': cdn,
    });
  });

  it('fullCache with tags, stale windows and vary', () => {
    const policy = fullCache(1800, {
      tags: ['users'],
      staleWhileRevalidate: 60,
      staleIfError: 86400,
      vary: ['Accept-Language', 'Authorization'],
    });
    expect(headersFor(policy, { tags: ['users', 'user:42'] })).toEqual({
      'cache-control': 'public, max-age=60, stale-if-error=86400',
      'cdn-cache-control': 'public, max-age=1800, stale-while-revalidate=60, stale-if-error=86400',
      'surrogate-control': 'public, max-age=1800, stale-while-revalidate=60, stale-if-error=86400',
      'surrogate-key': 'users user:42',
      'cache-tag': 'users,user:42',
      vary: 'accept-language, authorization',
    });
  });

  it('noStore: no-store in every field', () => {
    expect(headersFor(noStore())).toEqual({
      'cache-control': 'no-store',
      'cdn-cache-control': 'no-store',
      'surrogate-control': 'no-store',
    });
  });

  it('immutable and must-revalidate where asked', () => {
    expect(headersFor(cdnCache(604800, { immutable: true }))['cache-control']).toBe('max-age=604800, immutable');
    const strict = headersFor(fullCache(60, { mustRevalidate: true }));
    expect(strict['cache-control']).toBe('max-age=60, must-revalidate');
    expect(strict['cdn-cache-control']).toBe('max-age=60, must-revalidate');
  });

  it('must-revalidate suppresses every stale window, even one set without validation', () => {
    const policy: Policy = { ...fullCache(60, { staleWhileRevalidate: 10, staleIfError: 10 }), mustRevalidate: true };
    const headers = headersFor(policy);
    for (const value of Object.values(headers)) expect(value).not.toMatch(/stale-/);
  });

  it('private policies: private in cache-control, private/no-store in the targeted fields', () => {
    const headers = headersFor(serverCache(60, { scope: 'private', tags: ['me'] }), { tags: ['me'] });
    expect(headers['cache-control']).toBe('private, max-age=60');
    expect(headers['cdn-cache-control']).toBe('private, no-store');
    expect(headers['surrogate-control']).toBe('no-store');
    // Tags can carry user ids: they are never published for private responses.
    expect(headers['surrogate-key']).toBeUndefined();
    expect(headers['cache-tag']).toBeUndefined();
  });

  it('a private server-only policy is not stored by the browser either', () => {
    const headers = headersFor({ ttl: 60, levels: ['server'], scope: 'private' });
    expect(headers['cache-control']).toBe('private, no-store');
  });

  describe('maxUnpurgeableAge: the browser HTTP cache is capped for tagged policies', () => {
    it('caps max-age at 60 s by default, and the SWR window with it', () => {
      const policy = serverCache(600, { tags: ['users'], staleWhileRevalidate: 300 });
      expect(headersFor(policy, { tags: ['users'] })['cache-control']).toBe('private, max-age=60');
      const short = serverCache(20, { tags: ['users'], staleWhileRevalidate: 300 });
      expect(headersFor(short, { tags: ['users'] })['cache-control']).toBe(
        'private, max-age=20, stale-while-revalidate=40',
      );
    });

    it('follows the manifest setting, and leaves untagged and CDN views alone', () => {
      const policy = fullCache(600, { tags: ['users'] });
      const headers = headersFor(policy, { tags: ['users'], maxUnpurgeableAge: 5 });
      expect(headers['cache-control']).toBe('max-age=5');
      expect(headers['cdn-cache-control']).toBe('max-age=600');
      expect(headersFor(policy, { maxUnpurgeableAge: 5 })['cache-control']).toBe('max-age=600');
    });

    it('caps the CDN too when some tags could not fit its header', () => {
      const tags = Array.from({ length: 20 }, (_, i) => `${i}-${'t'.repeat(1000)}`);
      const headers = headersFor(fullCache(600), { tags });
      expect(headers['cdn-cache-control']).toBe('max-age=60');
      expect(headers['surrogate-control']).toBe('max-age=60');
    });

    it('headersForRequest passes the manifest default along', () => {
      const manifest = defineManifest({
        version: 1,
        defaults: { maxUnpurgeableAge: 7 },
        routes: [{ match: '/u/:id', policy: fullCache(600, { tags: ['user:{id}'] }) }],
      });
      const result = headersForRequest(manifest, '/u/9');
      expect(result?.headers['cache-control']).toBe('max-age=7');
      expect(result?.headers['surrogate-key']).toBe('user:9');
      expect(headersForRequest(manifest, '/nope')).toBeUndefined();
    });
  });

  // docs/http-rules.md#pitfalls, items 1–9 and 15, as explicit cases.
  describe('pitfalls', () => {
    const policies: Policy[] = [
      browserCache(),
      cdnCache(),
      serverCache(),
      fullCache(),
      noStore(),
      browserCache(60, { scope: 'private' }),
      serverCache(60, { scope: 'private', staleIfError: 10 }),
      fullCache(99999999999, { staleWhileRevalidate: 1.7, cdnTtl: -5 }),
    ];

    it('1: a private route never gives the CDN a max-age', () => {
      for (const policy of [browserCache(60, { scope: 'private' }), serverCache(60, { scope: 'private' })]) {
        const headers = headersFor(policy);
        expect(headers['cdn-cache-control']).not.toMatch(/max-age/);
        expect(headers['surrogate-control']).not.toMatch(/max-age/);
        expect(directives(headers['cdn-cache-control'])).toContain('no-store');
      }
    });

    it('2: shared reuse for authorized requests only on CDN routes that vary on Authorization', () => {
      // RFC 9111 §3.5: `public` lets a shared cache reuse a response to an Authorization request.
      const perUser = headersFor(fullCache(60, { vary: ['Authorization'] }));
      expect(directives(perUser['cache-control'])).toContain('public');
      expect(directives(perUser['cdn-cache-control'])).toContain('public');
      for (const policy of [
        fullCache(),
        cdnCache(),
        browserCache(),
        serverCache(),
        browserCache(60, { scope: 'private' }),
      ]) {
        const cc = directives(headersFor(policy)['cache-control']);
        expect(cc).not.toContain('public');
        expect(cc.some((d) => d.startsWith('s-maxage'))).toBe(false);
      }
    });

    it('3: routes the CDN must not store say private or no-store, so a Set-Cookie response is not shared', () => {
      for (const policy of [browserCache(), serverCache(), noStore()]) {
        const cc = directives(headersFor(policy)['cache-control']);
        expect(cc.includes('private') || cc.includes('no-store')).toBe(true);
      }
    });

    it('4: every policy emits Cache-Control, so nothing is cached heuristically', () => {
      for (const policy of policies) expect(headersFor(policy)['cache-control']).toMatch(/\S/);
    });

    it('5: noStore means no-store, not no-cache', () => {
      const headers = headersFor(noStore());
      for (const value of Object.values(headers)) {
        expect(directives(value)).toContain('no-store');
        expect(value).not.toMatch(/no-cache/);
      }
    });

    it('6: directives are lower-case tokens with bare integer values, each once, overflow clamped', () => {
      for (const policy of policies) {
        for (const name of ['cache-control', 'cdn-cache-control', 'surrogate-control']) {
          const list = directives(headersFor(policy)[name]);
          for (const d of list) expect(d, `${name}: ${d}`).toMatch(/^[a-z-]+(=\d+)?$/);
          const keys = list.map((d) => d.split('=')[0]);
          expect(new Set(keys).size).toBe(keys.length);
          for (const d of list) {
            const value = Number(d.split('=')[1] ?? 0);
            expect(value).toBeLessThanOrEqual(2147483648);
          }
        }
      }
      const huge = headersFor(fullCache(99999999999, { staleWhileRevalidate: 1.7, cdnTtl: -5 }));
      expect(huge['cache-control']).toBe('max-age=2147483648, stale-while-revalidate=1');
      expect(huge['cdn-cache-control']).toBe('max-age=0, stale-while-revalidate=1');
    });

    it('7: CDN-Cache-Control is a valid Structured-Field dictionary (RFC 9213 §2.1)', () => {
      // sf-dictionary members: lower-case key, then nothing (true), or =integer.
      const member = /^[a-z*][a-z0-9_\-.*]*(=-?\d{1,15})?$/;
      for (const policy of policies) {
        const value = headersFor(policy)['cdn-cache-control'] as string;
        expect(value.length).toBeGreaterThan(0);
        for (const m of value.split(/,[ \t]*/)) expect(m, value).toMatch(member);
      }
    });

    it('8: never an Expires header (invalid or local-time Expires is a classic trap)', () => {
      for (const policy of policies) expect(headersFor(policy)).not.toHaveProperty('expires');
    });

    it('9: never s-maxage; stale windows for the CDN go in the targeted fields beside max-age', () => {
      const headers = headersFor(fullCache(60, { staleWhileRevalidate: 30 }));
      for (const value of Object.values(headers)) expect(value).not.toMatch(/s-maxage/);
      expect(headers['cdn-cache-control']).toBe('max-age=60, stale-while-revalidate=30');
    });

    it('15: tags stay within 16 KB, without spaces or non-ASCII, and case-sensitive', () => {
      const tags = ['a b', 'ünï', 'Users', 'users', ...Array.from({ length: 30 }, (_, i) => `${i}${'k'.repeat(900)}`)];
      const headers = headersFor(cdnCache(), { tags });
      const key = headers['surrogate-key'] as string;
      expect(key.length).toBeLessThanOrEqual(16384);
      expect((headers['cache-tag'] as string).length).toBeLessThanOrEqual(16384);
      expect(key.split(' ').slice(0, 2)).toEqual(['Users', 'users']);
      expect(key).toMatch(/^[\x21-\x7e ]+$/);
      expect(headers['cache-tag']).not.toMatch(/ /);
    });
  });
});

describe('private answers in the browser HTTP cache (RFC 9111 §4.1)', () => {
  it('vary on the credential headers, merged with the policy’s own vary', () => {
    expect(headersFor(browserCache(60, { scope: 'private' }))).toMatchObject({
      'cache-control': 'private, max-age=60',
      vary: 'authorization, cookie',
    });
    expect(headersFor(serverCache(60, { scope: 'private', vary: ['Accept', 'Cookie'] })).vary).toBe(
      'accept, cookie, authorization',
    );
    expect(headersFor(serverCache(60, { scope: 'private' }), { credentialHeaders: ['x-session'] }).vary).toBe(
      'x-session',
    );
    // Public answers keep their own list.
    expect(headersFor(cdnCache(60)).vary).toBeUndefined();
  });

  it('are no-cache in the browser when no credential header is configured', () => {
    const headers = headersFor(browserCache(60, { scope: 'private' }), { credentialHeaders: [] });
    expect(headers['cache-control']).toBe('private, max-age=60, no-cache');
    expect(headers.vary).toBeUndefined();
  });

  it('take the manifest’s defaults through headersForRequest', () => {
    const manifest = defineManifest({
      version: 1,
      defaults: { credentialHeaders: ['X-Session'], negativeTtl: 3 },
      routes: [
        { match: '/me', policy: browserCache(60, { scope: 'private' }) },
        { match: '/static/*', policy: cdnCache(604800, { immutable: true }) },
      ],
    });
    expect(headersForRequest(manifest, '/me')?.headers.vary).toBe('x-session');
    expect(headersForRequest(manifest, '/static/x.js', 'GET', 404)?.headers['cache-control']).toBe('max-age=3');
  });
});

describe('negative answers: a short lifetime at every level, never immutable', () => {
  const statics = cdnCache(604800, { immutable: true, staleWhileRevalidate: 60, staleIfError: 600 });

  it.each([404, 410])('%i under an immutable static policy', (status) => {
    expect(headersFor(statics, { status })).toMatchObject({
      'cache-control': 'max-age=10',
      'cdn-cache-control': 'max-age=10',
      'surrogate-control': 'max-age=10',
    });
    expect(headersFor(statics, { status, negativeTtl: 30 })['cache-control']).toBe('max-age=30');
    // A shorter policy stays shorter; its stale windows fit in what is left of the bound.
    expect(headersFor(cdnCache(4, { staleWhileRevalidate: 60 }), { status })['cdn-cache-control']).toBe(
      'max-age=4, stale-while-revalidate=6',
    );
  });

  it.each([200, 301])('%i keeps the policy', (status) => {
    expect(headersFor(statics, { status })['cache-control']).toBe(
      'max-age=604800, stale-while-revalidate=60, stale-if-error=600, immutable',
    );
  });
});
