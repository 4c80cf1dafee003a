/**
 * Properties of `headersFor` that keep one user's answer from another, and negative answers short,
 * judged by http-cache-semantics 4.3.0 as a browser's HTTP cache (`shared: false`), which every user
 * of that browser shares (RFC 9111 §4.1), and as a CDN reading the targeted fields (RFC 9213).
 */
import { headersFor, type Level, type Policy } from '@strata/policy';
import fc from 'fast-check';
import CachePolicy from 'http-cache-semantics';
import { describe, expect, it } from 'vitest';

const NUM_RUNS = 200;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

/** The judge on a fixed clock, so nothing depends on how long a run takes. */
class BrowserCache extends CachePolicy {
  now(): number {
    return NOW;
  }
}

type Headers = Record<string, string>;
const request = (headers: Headers) => ({ url: '/x', method: 'GET', headers });
const stored = (emitted: Headers, field: string, requestHeaders: Headers, shared: boolean, status = 200) => {
  const response = { ...emitted, 'cache-control': emitted[field] ?? '', date: new Date(NOW).toUTCString() };
  return new BrowserCache(request(requestHeaders), { status, headers: response }, { shared });
};

const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    ttl: fc.integer({ min: 1, max: 100_000 }),
    levels: fc.shuffledSubarray<Level>(['browser', 'cdn', 'server'], { minLength: 1 }),
    scope: fc.constantFrom<'public' | 'private' | undefined>(undefined, 'public', 'private'),
    vary: fc.uniqueArray(fc.constantFrom('accept', 'authorization', 'cookie', 'x-tenant'), { maxLength: 3 }),
    staleWhileRevalidate: fc.integer({ min: 0, max: 100_000 }),
    staleIfError: fc.integer({ min: 0, max: 100_000 }),
    immutable: fc.boolean(),
    tags: fc.constantFrom<string[]>([], ['users'], ['user:1', 'users']),
  })
  .map(({ scope, levels, vary, ...rest }): Policy => {
    const policy: Policy = { ...rest, levels: scope === 'private' ? levels.filter((l) => l !== 'cdn') : levels };
    if (scope) policy.scope = scope;
    if (vary.length > 0) policy.vary = vary;
    return policy;
  });

/** A request's credentials: each of Authorization and Cookie absent or one of a few users. */
const credentialsArb = fc.record(
  {
    authorization: fc.constantFrom('Bearer alice', 'Bearer bob', 'Basic Ym9iOnB3'),
    cookie: fc.constantFrom('sid=alice', 'sid=bob', 'sid=alice; theme=dark'),
  },
  { requiredKeys: [] },
);

const CREDENTIALS = ['authorization', 'cookie'] as const;
const varied = (p: Policy) => CREDENTIALS.filter((name) => p.vary?.includes(name));

describe('private and credential-varied answers in the browser HTTP cache (http-cache-semantics, shared: false)', () => {
  it('a stored answer is never reused for a request with a different credential', () => {
    fc.assert(
      fc.property(
        policyArb.filter((p) => p.levels.includes('browser') && (p.scope === 'private' || varied(p).length > 0)),
        credentialsArb,
        credentialsArb,
        fc.constantFrom('', 'en', 'fr'),
        (policy, first, second, accept) => {
          const emitted = headersFor(policy, { tags: policy.tags ?? [] });
          const extra = accept ? { accept } : {};
          const cache = stored(emitted, 'cache-control', { ...first, ...extra }, false);
          // The credentials that select this answer: both for a private policy, the varied ones otherwise.
          const selecting = policy.scope === 'private' ? CREDENTIALS : varied(policy);
          const differs = selecting.some((name) => first[name] !== second[name]);
          const reuse = cache.evaluateRequest(request({ ...second, ...extra }));
          if (differs) expect(reuse.response, `${emitted.vary} | ${JSON.stringify([first, second])}`).toBeUndefined();
          // Sanity: the same user, unchanged request, does get the stored answer while fresh.
          const same = cache.evaluateRequest(request({ ...first, ...extra }));
          expect(same.response, emitted['cache-control']).toBeDefined();
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('with no credential headers configured, a private answer is revalidated before every reuse (no-cache)', () => {
    fc.assert(
      fc.property(
        policyArb.filter((p) => p.levels.includes('browser') && p.scope === 'private'),
        credentialsArb,
        (policy, credentials) => {
          const emitted = headersFor(policy, { credentialHeaders: [] });
          expect(emitted['cache-control']).toMatch(/(^|, )no-cache(,|$)/);
          const cache = stored(emitted, 'cache-control', credentials, false);
          expect(cache.satisfiesWithoutRevalidation(request(credentials))).toBe(false);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('negative answers (404, 410 and other 4xx/5xx)', () => {
  const FIELDS = ['cache-control', 'cdn-cache-control', 'surrogate-control'] as const;
  /** The manifest's negativeTtl, or none (the default, 10 s). */
  const negativeTtlArb: fc.Arbitrary<{ negativeTtl?: number }> = fc.option(
    fc.integer({ min: 0, max: 600 }).map((negativeTtl) => ({ negativeTtl })),
    { nil: {} },
  );

  it('live at most negativeTtl at every level, stale windows included, and are never immutable', () => {
    fc.assert(
      fc.property(
        policyArb,
        fc.constantFrom(404, 410, 400, 403, 405, 414, 500, 501),
        negativeTtlArb,
        (policy, status, negativeTtl) => {
          const bound = negativeTtl.negativeTtl ?? 10;
          const emitted = headersFor(policy, { tags: policy.tags ?? [], status, ...negativeTtl });
          for (const field of FIELDS) {
            const value = emitted[field] ?? '';
            expect(value, field).not.toMatch(/immutable/);
            const cache = stored(emitted, field, {}, field !== 'cache-control', status);
            if (!cache.storable()) continue;
            const stale = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(value)?.[1] ?? 0);
            expect(cache.maxAge(), `${field}: ${value}`).toBeLessThanOrEqual(bound);
            expect(cache.maxAge() + stale('stale-while-revalidate'), value).toBeLessThanOrEqual(bound);
            expect(cache.maxAge() + stale('stale-if-error'), value).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('leave 2xx and redirects to the policy', () => {
    fc.assert(
      fc.property(policyArb, fc.constantFrom(200, 203, 204, 300, 301, 308), negativeTtlArb, (policy, status, n) => {
        const tags = policy.tags ?? [];
        expect(headersFor(policy, { tags, status, ...n })).toEqual(headersFor(policy, { tags }));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
