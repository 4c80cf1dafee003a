/**
 * Property tests that use http-cache-semantics (pinned 4.3.0) as an independent judge of the headers
 * `headersFor` emits (docs/http-rules.md#http-cache-semantics). The judge knows nothing about
 * Strata: it reads the emitted fields the way a browser (`shared: false`), a generic proxy
 * (`shared: true`) or an RFC 9213 CDN (the targeted field copied into Cache-Control, Expires
 * dropped) would.
 *
 * The library's own deviations from RFC 9111 (docs/http-rules.md#http-cache-semantics)
 * are recorded as expected results in the `records http-cache-semantics deviation` tests, not skipped.
 */
import {
  browserCache,
  cdnCache,
  fullCache,
  headersFor,
  isValidTag,
  type Level,
  noStore,
  type Policy,
  serverCache,
} from '@strata/policy';
import { manifestIssues } from '@strata/policy/validate';
import fc from 'fast-check';
import CachePolicy from 'http-cache-semantics';
import { describe, expect, it } from 'vitest';

const NUM_RUNS = 300;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const DEFAULT_CAP = 60;
const MAX_SECONDS = 10 ** 7;

/**
 * The judge on a fixed clock: `now()` can be monkey-patched (docs/http-rules.md#http-cache-semantics),
 * so resident time is 0.
 */
class Judge extends CachePolicy {
  now(): number {
    return NOW;
  }
  /** Not in @types/http-cache-semantics, but part of the 4.3.0 API (docs/http-rules.md#http-cache-semantics). */
  useSwr(): boolean {
    return (this as unknown as { useStaleWhileRevalidate(): boolean }).useStaleWhileRevalidate();
  }
}

type Field = 'cache-control' | 'cdn-cache-control' | 'surrogate-control';
const TARGETED: readonly Field[] = ['cdn-cache-control', 'surrogate-control'];
const FIELDS: readonly Field[] = ['cache-control', ...TARGETED];

interface JudgeOptions {
  shared: boolean;
  /** Value of the response's Age header, in seconds. */
  age?: number;
  /** Request headers (lower-case). */
  request?: Record<string, string>;
  /** Extra response headers (lower-case), e.g. set-cookie. */
  extra?: Record<string, string>;
  status?: number;
}

const request = (headers: Record<string, string> = {}) => ({ url: '/x', method: 'GET', headers: { ...headers } });

/**
 * Judges one field of the emitted headers. For a targeted field (CDN-Cache-Control,
 * Surrogate-Control) the value replaces Cache-Control and Expires is dropped, as RFC 9213 §2.2
 * makes a CDN that honours the targeted field ignore both.
 */
function judge(emitted: Record<string, string>, field: Field, options: JudgeOptions): Judge {
  const headers: Record<string, string> = { ...emitted, ...options.extra, date: new Date(NOW).toUTCString() };
  if (field !== 'cache-control') {
    const targeted = emitted[field];
    if (targeted === undefined) throw new Error(`headersFor emitted no ${field}: ${JSON.stringify(emitted)}`);
    headers['cache-control'] = targeted;
    delete headers.expires;
  }
  if (options.age !== undefined) headers.age = String(options.age);
  return new Judge(request(options.request), { status: options.status ?? 200, headers }, { shared: options.shared });
}

// --- Arbitraries --------------------------------------------------------------------------------

const ALL_LEVELS: Level[] = ['browser', 'cdn', 'server'];
const secondsArb = fc.integer({ min: 0, max: MAX_SECONDS });
/** Mostly small TTLs (so caps and windows interact), sometimes anything up to 10^7. */
const ttlArb = fc.oneof(fc.integer({ min: 0, max: 600 }), secondsArb);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

// Printable ASCII without space, comma and braces (braces would make the tag a template).
const TAG_CHARS = [...Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i))].filter(
  (c) => c !== ',' && c !== '{' && c !== '}',
);
const tagArb = fc.oneof(
  fc.constantFrom('users', 'user:42', 'posts', 'post:7', 'team:a-b', 'org:1/users'),
  fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}(:[0-9]{1,6})?$/),
  fc.string({ unit: fc.constantFrom(...TAG_CHARS), minLength: 1, maxLength: 24 }),
);
const varyArb = fc.constantFrom('accept', 'accept-encoding', 'Accept-Language', 'x-tenant', 'cookie');

interface Case {
  policy: Policy;
  /** The expanded tags of the response (passed to headersFor as `tags`). */
  tags: string[];
  /** The manifest's `defaults.maxUnpurgeableAge`, when set. */
  maxUnpurgeableAge: number | undefined;
}

/** Valid policies only: every one passes `manifestIssues` (checked in the first property). */
const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    ttl: ttlArb,
    levels: fc.shuffledSubarray(ALL_LEVELS),
    scope: fc.constantFrom(undefined, 'public', 'private'),
    privateDropsCdn: fc.boolean(),
    browserTtl: optional(ttlArb),
    cdnTtl: optional(ttlArb),
    serverTtl: optional(ttlArb),
    staleWhileRevalidate: optional(ttlArb),
    staleIfError: optional(ttlArb),
    immutable: optional(fc.boolean()),
    mustRevalidate: optional(fc.boolean()),
    mustRevalidateWins: fc.boolean(),
    tags: optional(fc.array(tagArb, { maxLength: 6 })),
    vary: optional(fc.uniqueArray(varyArb, { maxLength: 3, selector: (h) => h.toLowerCase() })),
  })
  .map((r) => {
    let levels = r.levels;
    let scope = r.scope;
    // A private policy cannot include the CDN level (invalid): drop the level or make it public.
    if (scope === 'private' && levels.includes('cdn')) {
      if (r.privateDropsCdn) levels = levels.filter((l) => l !== 'cdn');
      else scope = 'public';
    }
    let mustRevalidate = r.mustRevalidate;
    let swr = r.staleWhileRevalidate;
    let sie = r.staleIfError;
    // mustRevalidate together with SWR or SIE is invalid: drop one side.
    if (mustRevalidate && (swr !== undefined || sie !== undefined)) {
      if (r.mustRevalidateWins) {
        swr = undefined;
        sie = undefined;
      } else mustRevalidate = undefined;
    }
    let vary: string[] | undefined = r.vary;
    // mustRevalidate on a public CDN policy must vary on Authorization (RFC 9111 §3.5; validator rule).
    if (mustRevalidate && levels.includes('cdn') && scope !== 'private') {
      if (!vary?.some((h) => h.toLowerCase() === 'authorization')) vary = [...(vary ?? []), 'authorization'];
    }
    const policy: Policy = { ttl: r.ttl, levels };
    if (scope !== undefined) policy.scope = scope;
    // A per-level override is only valid for a level the policy stores at.
    if (r.browserTtl !== undefined && levels.includes('browser')) policy.browserTtl = r.browserTtl;
    if (r.cdnTtl !== undefined && levels.includes('cdn')) policy.cdnTtl = r.cdnTtl;
    if (r.serverTtl !== undefined && levels.includes('server')) policy.serverTtl = r.serverTtl;
    if (swr !== undefined) policy.staleWhileRevalidate = swr;
    if (sie !== undefined) policy.staleIfError = sie;
    if (r.immutable !== undefined) policy.immutable = r.immutable;
    if (mustRevalidate !== undefined) policy.mustRevalidate = mustRevalidate;
    if (r.tags !== undefined) policy.tags = r.tags;
    if (vary !== undefined) policy.vary = vary;
    return policy;
  });

const capArb = optional(fc.oneof(fc.integer({ min: 0, max: 600 }), secondsArb));

const caseArb: fc.Arbitrary<Case> = fc
  .tuple(policyArb, capArb)
  .map(([policy, maxUnpurgeableAge]) => ({ policy, tags: policy.tags ?? [], maxUnpurgeableAge }));

const emit = (c: Case): Record<string, string> =>
  headersFor(c.policy, {
    tags: c.tags,
    ...(c.maxUnpurgeableAge === undefined ? {} : { maxUnpurgeableAge: c.maxUnpurgeableAge }),
  });

// --- Expected values, derived from what a policy means (docs/architecture.md#layers), not from src -

const has = (p: Policy, level: Level) => p.levels.includes(level);
const isPrivate = (p: Policy) => p.scope === 'private';
const cdnStores = (p: Policy) => has(p, 'cdn') && !isPrivate(p);
const capOf = (c: Case) => c.maxUnpurgeableAge ?? DEFAULT_CAP;
const tagged = (c: Case) => c.tags.length > 0;

/** The browser's max-age: its TTL, capped at maxUnpurgeableAge for a tagged response. */
function browserMaxAge(c: Case): number {
  const ttl = c.policy.browserTtl ?? c.policy.ttl;
  return tagged(c) ? Math.min(ttl, capOf(c)) : ttl;
}
/** The CDN's max-age (the tags used here always fit the CDN's tag header, so no cap applies). */
const cdnMaxAge = (c: Case): number => c.policy.cdnTtl ?? c.policy.ttl;
/** The SWR window a level may use: none under must-revalidate (RFC 9111 §5.2.2.2). */
const swrOf = (p: Policy): number => (p.mustRevalidate ? 0 : (p.staleWhileRevalidate ?? 0));
const sieOf = (p: Policy): number => (p.mustRevalidate ? 0 : (p.staleIfError ?? 0));
/** The browser's SWR window: for a tagged response, max-age plus the window stays within the cap. */
function browserSwr(c: Case): number {
  const swr = swrOf(c.policy);
  return tagged(c) ? Math.max(0, Math.min(swr, capOf(c) - browserMaxAge(c))) : swr;
}

const run = <Ts>(property: fc.IRawProperty<Ts>) => fc.assert(property, { numRuns: NUM_RUNS });

// --- Properties ---------------------------------------------------------------------------------

describe('headersFor judged by http-cache-semantics 4.3.0', () => {
  it('generates only valid policies (sanity check of the arbitrary)', () => {
    run(
      fc.property(caseArb, (c) => {
        for (const tag of c.tags) expect(isValidTag(tag)).toBe(true);
        const defaults = c.maxUnpurgeableAge === undefined ? {} : { maxUnpurgeableAge: c.maxUnpurgeableAge };
        expect(manifestIssues({ version: 1, defaults, routes: [{ match: '/x', policy: c.policy }] })).toEqual([]);
      }),
    );
  });

  it('emits only lower-case, token-form directives, each once (hcs reads names case-sensitively, last duplicate wins)', () => {
    // RFC 9111 §5.2.2.1: senders MUST use the token form for max-age; RFC 9213 §2.1: CDN-CC is an SF
    // Dictionary with lower-case keys and bare integers. hcs is case-sensitive and lets the last
    // duplicate win (docs/http-rules.md#http-cache-semantics), so neither may ever occur.
    // Directives hcs misreads for shared caches (proxy-revalidate → maxAge 0, s-maxage) are never
    // emitted either.
    const allowed = new Set([
      'public',
      'private',
      'no-store',
      'max-age',
      'stale-while-revalidate',
      'stale-if-error',
      'immutable',
      'must-revalidate',
    ]);
    const withValue = new Set(['max-age', 'stale-while-revalidate', 'stale-if-error']);
    run(
      fc.property(caseArb, (c) => {
        const h = emit(c);
        for (const field of FIELDS) {
          const value = h[field];
          expect(value, field).toBeDefined();
          const names = (value ?? '').split(',').map((part) => {
            const m = /^([a-z-]+)(?:=([0-9]+))?$/.exec(part.trim());
            expect(m, `${field}: ${value}`).not.toBeNull();
            const [, name = '', arg] = m ?? [];
            expect(allowed.has(name), `${field}: ${name}`).toBe(true);
            expect(arg !== undefined, `${field}: ${name} takes a value iff it is a delta-seconds directive`).toBe(
              withValue.has(name),
            );
            return name;
          });
          expect(new Set(names).size, `${field}: ${value}`).toBe(names.length);
        }
      }),
    );
  });

  it('property 1 — browser view (shared: false): storable with max-age = browserTtl ?? ttl, capped when tagged', () => {
    run(
      fc.property(caseArb, (c) => {
        const h = emit(c);
        const p = judge(h, 'cache-control', { shared: false });
        if (!has(c.policy, 'browser')) {
          expect(p.storable(), h['cache-control']).toBe(false);
          expect(p.maxAge()).toBe(0);
          return;
        }
        expect(p.storable(), h['cache-control']).toBe(true);
        // `immutable` is always emitted with an explicit max-age, and hcs takes an explicit max-age
        // before its immutable minimum TTL, so the bare-`immutable` ms/s bug (issue #25: maxAge
        // 86,400,000 s, docs/http-rules.md#http-cache-semantics) does not apply: maxAge is exactly
        // the expected TTL.
        expect(p.maxAge(), h['cache-control']).toBe(browserMaxAge(c));
        const fresh = browserMaxAge(c) > 0;
        expect(p.stale()).toBe(!fresh);
        // hcs never satisfies a must-revalidate response without revalidation, even while it is
        // fresh (commit 184f54b, docs/http-rules.md#http-cache-semantics) — encoded as the expected result.
        expect(p.satisfiesWithoutRevalidation(request())).toBe(fresh && !c.policy.mustRevalidate);
        // Explicit freshness everywhere: the obsolete Warning 113 (heuristic > 24 h) never appears.
        expect(judge(h, 'cache-control', { shared: false, age: 10 ** 8 }).responseHeaders().warning).toBeUndefined();
      }),
    );
  });

  it('property 1b — a tagged response never outlives maxUnpurgeableAge in the browser HTTP cache', () => {
    // docs/architecture.md#layers: the browser's HTTP cache is the one layer no purge reaches, so max-age plus the
    // SWR window stays within the cap. From age = cap on, the browser must ask the origin.
    run(
      fc.property(
        caseArb.filter((c) => tagged(c) && has(c.policy, 'browser')),
        fc.integer({ min: 0, max: MAX_SECONDS }),
        (c, extra) => {
          const h = emit(c);
          const cap = capOf(c);
          const fresh = judge(h, 'cache-control', { shared: false });
          expect(fresh.maxAge() + browserSwr(c)).toBeLessThanOrEqual(cap);
          const late = judge(h, 'cache-control', { shared: false, age: cap + (extra % 1000) });
          const result = late.evaluateRequest(request());
          expect(result.response, h['cache-control']).toBeUndefined();
          expect(result.revalidation?.synchronous).toBe(true);
        },
      ),
    );
  });

  it('property 2 — CDN view (CDN-Cache-Control and Surrogate-Control, shared: true): storable iff cdn level and public', () => {
    run(
      fc.property(caseArb, (c) => {
        const h = emit(c);
        // Give Surrogate-Control and CDN-Cache-Control the same meaning (docs/http-rules.md#surrogate-control).
        for (const field of TARGETED) {
          const p = judge(h, field, { shared: true });
          if (cdnStores(c.policy)) {
            expect(p.storable(), `${field}: ${h[field]}`).toBe(true);
            expect(p.maxAge(), `${field}: ${h[field]}`).toBe(cdnMaxAge(c));
          } else {
            expect(p.storable(), `${field}: ${h[field]}`).toBe(false);
            expect(p.maxAge()).toBe(0);
          }
        }
        expect(h['surrogate-control']?.replace(/^private, /, '')).toBe(
          h['cdn-cache-control']?.replace(/^private, /, ''),
        );
      }),
    );
  });

  it('property 3 — private and browser-only policies are never storable by a shared cache reading Cache-Control', () => {
    run(
      fc.property(
        caseArb.filter((c) => isPrivate(c.policy) || !has(c.policy, 'cdn')),
        fc.boolean(),
        (c, withAuthorization) => {
          const h = emit(c);
          const requestHeaders: Record<string, string> = withAuthorization ? { authorization: 'Bearer t' } : {};
          for (const extra of [{}, { 'set-cookie': 'sid=1' }]) {
            const p = judge(h, 'cache-control', { shared: true, request: requestHeaders, extra });
            expect(p.storable(), h['cache-control']).toBe(false);
            expect(p.maxAge()).toBe(0);
          }
        },
      ),
    );
  });

  it('property 4 — levels [] (noStore) is never storable, shared or not, in any field', () => {
    const storeNothing = fc.oneof(
      caseArb.map((c): Case => {
        // Everything a store-nowhere policy may still carry: no per-level overrides (no levels).
        const { browserTtl: _b, cdnTtl: _c, serverTtl: _s, ...rest } = c.policy;
        return { ...c, policy: { ...rest, levels: [] } };
      }),
      fc.tuple(fc.array(tagArb, { maxLength: 4 }), capArb).map(([tags, maxUnpurgeableAge]) => ({
        policy: noStore(),
        tags,
        maxUnpurgeableAge,
      })),
    );
    run(
      fc.property(storeNothing, fc.boolean(), fc.boolean(), (c, shared, withAuthorization) => {
        const h = emit(c);
        const requestHeaders: Record<string, string> = withAuthorization ? { authorization: 'Bearer t' } : {};
        for (const field of FIELDS) {
          const p = judge(h, field, { shared, request: requestHeaders });
          expect(p.storable(), `${field}: ${h[field]}`).toBe(false);
          expect(p.maxAge()).toBe(0);
        }
        expect(h['surrogate-key']).toBeUndefined();
        expect(h['cache-tag']).toBeUndefined();
      }),
    );
  });

  it('property 5 — CDN view: stale-while-revalidate applies exactly within the SWR window, never under must-revalidate', () => {
    run(
      fc.property(
        caseArb.filter((c) => cdnStores(c.policy)),
        fc.integer({ min: 0, max: MAX_SECONDS }),
        (c, offset) => {
          const h = emit(c);
          const maxAge = cdnMaxAge(c);
          const swr = swrOf(c.policy);
          for (const field of TARGETED) {
            // Just stale: the first second at which the response is no longer fresh.
            const justStale = judge(h, field, { shared: true, age: maxAge });
            expect(justStale.stale()).toBe(true);
            expect(justStale.useSwr(), `${field}: ${h[field]}`).toBe(swr > 0);
            const atExpiry = justStale.evaluateRequest(request());
            if (swr > 0) {
              expect(atExpiry.response, `${field}: ${h[field]}`).toBeDefined();
              expect(atExpiry.revalidation?.synchronous).toBe(false);
            } else {
              expect(atExpiry.response, `${field}: ${h[field]}`).toBeUndefined();
              expect(atExpiry.revalidation?.synchronous).toBe(true);
            }
            if (swr > 0) {
              // Anywhere inside the window: served stale, revalidated in the background.
              const inside = judge(h, field, { shared: true, age: maxAge + (offset % swr) });
              const result = inside.evaluateRequest(request());
              expect(result.response, `${field}: ${h[field]} at age ${maxAge + (offset % swr)}`).toBeDefined();
              expect(result.revalidation?.synchronous).toBe(false);
            }
            // Beyond the window: the CDN must wait for the origin.
            const beyond = judge(h, field, { shared: true, age: maxAge + swr + (offset % 1000) });
            expect(beyond.useSwr()).toBe(false);
            const result = beyond.evaluateRequest(request());
            expect(result.response).toBeUndefined();
            expect(result.revalidation?.synchronous).toBe(true);
            if (c.policy.mustRevalidate) {
              // An hcs deviation (docs/http-rules.md#http-cache-semantics): must-revalidate is never
              // satisfied, even while fresh.
              const fresh = judge(h, field, { shared: true, age: 0 }).evaluateRequest(request());
              expect(fresh.response).toBeUndefined();
              expect(fresh.revalidation?.synchronous).toBe(true);
            }
          }
        },
      ),
    );
  });

  it('property 5b — CDN view with an SWR policy always gets the full window (SWR-focused generator)', () => {
    const swrCase = fc.tuple(caseArb, fc.integer({ min: 1, max: MAX_SECONDS })).map(([c, swr]): Case => {
      const { mustRevalidate: _m, scope: _s, ...rest } = c.policy;
      const levels: Level[] = [...new Set<Level>([...rest.levels, 'cdn'])];
      return { ...c, policy: { ...rest, levels, staleWhileRevalidate: swr } };
    });
    run(
      fc.property(swrCase, fc.integer({ min: 0, max: MAX_SECONDS }), (c, offset) => {
        const h = emit(c);
        const swr = c.policy.staleWhileRevalidate ?? 0;
        const age = cdnMaxAge(c) + (offset % swr);
        for (const field of TARGETED) {
          const p = judge(h, field, { shared: true, age });
          expect(p.useSwr(), `${field}: ${h[field]} at age ${age}`).toBe(true);
          expect(p.evaluateRequest(request()).revalidation?.synchronous).toBe(false);
          expect(p.timeToLive()).toBe(Math.max(0, cdnMaxAge(c) + Math.max(swr, sieOf(c.policy)) - age) * 1000);
        }
      }),
    );
  });

  it('property 5c — browser view: SWR window (capped when tagged) and stale-if-error window', () => {
    run(
      fc.property(
        caseArb.filter((c) => has(c.policy, 'browser')),
        fc.integer({ min: 0, max: MAX_SECONDS }),
        (c, offset) => {
          const h = emit(c);
          const maxAge = browserMaxAge(c);
          const swr = browserSwr(c);
          const inside = judge(h, 'cache-control', { shared: false, age: maxAge + (swr > 0 ? offset % swr : 0) });
          expect(inside.useSwr(), `${h['cache-control']}`).toBe(swr > 0);
          const beyond = judge(h, 'cache-control', { shared: false, age: maxAge + swr });
          expect(beyond.useSwr()).toBe(false);
          // stale-if-error (RFC 5861 §4): within the window a 503 keeps the stale copy.
          const sie = sieOf(c.policy);
          const origin503 = { status: 503, headers: {} };
          const withinSie = judge(h, 'cache-control', { shared: false, age: maxAge + (sie > 0 ? offset % sie : 0) });
          const kept = withinSie.revalidatedPolicy(request(), origin503);
          expect(kept.modified, h['cache-control']).toBe(sie === 0);
          const afterSie = judge(h, 'cache-control', { shared: false, age: maxAge + sie });
          expect(afterSie.revalidatedPolicy(request(), origin503).modified).toBe(true);
        },
      ),
    );
  });

  it('property 5d — CDN view: stale-if-error keeps the stale copy on a 5xx exactly within the window', () => {
    run(
      fc.property(
        caseArb.filter((c) => cdnStores(c.policy)),
        fc.integer({ min: 0, max: MAX_SECONDS }),
        fc.constantFrom(500, 502, 503, 504),
        (c, offset, status) => {
          const h = emit(c);
          const maxAge = cdnMaxAge(c);
          const sie = sieOf(c.policy);
          for (const field of TARGETED) {
            const within = judge(h, field, { shared: true, age: maxAge + (sie > 0 ? offset % sie : 0) });
            expect(within.revalidatedPolicy(request(), { status, headers: {} }).modified, h[field]).toBe(sie === 0);
            const after = judge(h, field, { shared: true, age: maxAge + sie });
            expect(after.revalidatedPolicy(request(), { status, headers: {} }).modified).toBe(true);
          }
        },
      ),
    );
  });

  it('emits Vary as the lower-cased policy list (plus the credential headers when private), and the judge matches an identical request', () => {
    run(
      fc.property(
        caseArb.filter((c) => (c.policy.vary?.length ?? 0) > 0 && has(c.policy, 'browser')),
        (c) => {
          const h = emit(c);
          const names = (c.policy.vary ?? []).map((v) => v.toLowerCase());
          if (isPrivate(c.policy))
            for (const name of ['authorization', 'cookie']) if (!names.includes(name)) names.push(name);
          expect(h.vary).toBe(names.join(', '));
          const requestHeaders = Object.fromEntries(names.map((v) => [v, 'a']));
          const p = judge(h, 'cache-control', { shared: false, request: requestHeaders });
          const same = p.evaluateRequest(request(requestHeaders));
          const other = p.evaluateRequest(
            request(Object.fromEntries(Object.keys(requestHeaders).map((k) => [k, 'b']))),
          );
          expect(other.response).toBeUndefined();
          if (browserMaxAge(c) > 0 && !c.policy.mustRevalidate) expect(same.response).toBeDefined();
        },
      ),
    );
  });
});

// --- Pitfalls 1–3 (docs/http-rules.md#pitfalls) -----------------------------------------------------

describe('pitfalls 1–3 of docs/http-rules.md#pitfalls, judged by http-cache-semantics', () => {
  const privateRoutes: [string, Policy][] = [
    ['browser-only private', browserCache(300, { scope: 'private', tags: ['user:42'] })],
    ['server + browser private', serverCache(600, { scope: 'private', staleWhileRevalidate: 30 })],
    ['browser-only private, must-revalidate', browserCache(300, { scope: 'private', mustRevalidate: true })],
  ];

  it.each(privateRoutes)(
    'pitfall 1: a %s route gives a CDN nothing to store in CDN-CC or Surrogate-Control',
    (_, policy) => {
      const h = headersFor(policy, { tags: policy.tags ?? [] });
      for (const field of TARGETED) {
        expect(h[field]).not.toMatch(/max-age/);
        for (const shared of [true, false]) {
          expect(judge(h, field, { shared }).storable(), `${field}: ${h[field]}`).toBe(false);
        }
      }
      expect(judge(h, 'cache-control', { shared: true }).storable()).toBe(false);
      expect(judge(h, 'cache-control', { shared: false }).storable()).toBe(true);
    },
  );

  it('pitfall 2: Authorization — a CDN policy that does not vary on it is never shared for authorized requests', () => {
    // RFC 9111 §3.5: with Authorization in the request, a shared cache stores only if the response
    // has public, s-maxage or must-revalidate. Without `vary: authorization` no field has any of them.
    const h = headersFor(cdnCache(600, { staleWhileRevalidate: 30 }));
    const authorization = { authorization: 'Bearer t' };
    for (const field of FIELDS) {
      expect(judge(h, field, { shared: true, request: authorization }).storable(), field).toBe(false);
      expect(judge(h, field, { shared: true }).storable(), field).toBe(true);
    }
  });

  it('pitfall 2: Authorization — varying on it makes every field public, so each user gets a shared variant', () => {
    const h = headersFor(cdnCache(600, { vary: ['Authorization'] }));
    for (const field of FIELDS) {
      const p = judge(h, field, { shared: true, request: { authorization: 'Bearer t' } });
      expect(h[field], field).toMatch(/^public, /);
      expect(p.storable(), field).toBe(true);
      expect(p.maxAge(), field).toBe(600);
      expect(p.satisfiesWithoutRevalidation(request({ authorization: 'Bearer u' })), field).toBe(false);
    }
  });

  it('pitfall 2: Authorization — must-revalidate in the CDN fields flips it to shared-storable', () => {
    const h = headersFor(fullCache(600, { mustRevalidate: true }));
    for (const field of TARGETED) {
      const p = judge(h, field, { shared: true, request: { authorization: 'Bearer t' } });
      expect(p.storable()).toBe(true);
      expect(p.maxAge()).toBe(600);
    }
  });

  it('pitfall 2, property — with Authorization, the CDN view stores iff the policy is CDN-public and varies on it', () => {
    run(
      fc.property(caseArb, (c) => {
        const h = emit(c);
        for (const field of TARGETED) {
          const p = judge(h, field, { shared: true, request: { authorization: 'Basic dTpw' } });
          const variesOnAuthorization = (c.policy.vary ?? []).some((v) => v.toLowerCase() === 'authorization');
          expect(p.storable(), `${field}: ${h[field]}`).toBe(cdnStores(c.policy) && variesOnAuthorization);
        }
      }),
    );
  });

  it('pitfall 3: Set-Cookie on a private route stays out of shared caches in every field', () => {
    const h = headersFor(serverCache(600, { scope: 'private' }));
    for (const field of FIELDS) {
      expect(judge(h, field, { shared: true, extra: { 'set-cookie': 'sid=1' } }).storable()).toBe(false);
    }
  });

  it('pitfall 3: Set-Cookie on a public CDN route is storable (the RFC: Set-Cookie does not prevent caching)', () => {
    const h = headersFor(cdnCache(600));
    const cookie = { 'set-cookie': 'sid=1' };
    // Storable per RFC 9111 §7.3 (the server layer strips or refuses such responses); the maxAge 0
    // hcs reports without `public` is the deviation recorded below.
    const plain = judge(h, 'cache-control', { shared: true, extra: cookie });
    expect(plain.storable()).toBe(true);
    // CDN view: storable per RFC 9111 §7.3; the maxAge 0 is the hcs deviation recorded below.
    for (const field of TARGETED) expect(judge(h, field, { shared: true, extra: cookie }).storable()).toBe(true);
  });
});

// --- http-cache-semantics 4.3.0 deviations (docs/http-rules.md#http-cache-semantics) as expected results

describe('records http-cache-semantics 4.3.0 deviations (docs/http-rules.md#http-cache-semantics)', () => {
  it('records http-cache-semantics deviation: must-revalidate is never satisfied while fresh', () => {
    // RFC 9111 §5.2.2.2 only forbids serving it stale; hcs always revalidates (commit 184f54b, PR #54).
    const h = headersFor(cdnCache(600, { mustRevalidate: true }));
    expect(h['cache-control']).toBe('max-age=600, must-revalidate');
    for (const [field, shared] of [
      ['cache-control', false],
      ['cdn-cache-control', true],
      ['surrogate-control', true],
    ] as const) {
      const p = judge(h, field, { shared, age: 10 });
      expect(p.stale()).toBe(false);
      expect(p.maxAge()).toBe(600);
      expect(p.satisfiesWithoutRevalidation(request())).toBe(false);
      const result = p.evaluateRequest(request());
      expect(result.response).toBeUndefined();
      expect(result.revalidation?.synchronous).toBe(true);
    }
  });

  it('records http-cache-semantics deviation: shared + Set-Cookie without public → maxAge 0', () => {
    const h = headersFor(cdnCache(600));
    for (const field of TARGETED) {
      const p = judge(h, field, { shared: true, extra: { 'set-cookie': 'sid=1' } });
      expect(p.storable()).toBe(true);
      expect(p.maxAge()).toBe(0); // RFC 9111 §7.3: 600
      expect(judge(h, field, { shared: false, extra: { 'set-cookie': 'sid=1' } }).maxAge()).toBe(600);
    }
  });

  it('records http-cache-semantics deviation: proxy-revalidate → maxAge 0 in a shared cache', () => {
    const h = { 'cache-control': 'max-age=600, proxy-revalidate' };
    expect(judge(h, 'cache-control', { shared: true }).maxAge()).toBe(0); // RFC 9111 §5.2.2.8: 600
    expect(judge(h, 'cache-control', { shared: false }).maxAge()).toBe(600);
  });

  it('records http-cache-semantics deviation: directive names are case-sensitive, the last duplicate wins', () => {
    // RFC 9111 §5.2: names are case-insensitive → 600; hcs ignores `Max-Age` and falls back to 0.
    expect(judge({ 'cache-control': 'Max-Age=600' }, 'cache-control', { shared: false }).maxAge()).toBe(0);
    // RFC 9111 §4.2.1: duplicates are invalid (first or stale); hcs takes the last.
    expect(judge({ 'cache-control': 'max-age=600, max-age=10' }, 'cache-control', { shared: false }).maxAge()).toBe(10);
  });

  it('records http-cache-semantics deviation: immutable — bare → maxAge 86,400,000 s; with max-age → max-age', () => {
    // Issue #25: the immutable minimum TTL is in ms (86,400,000) but returned as seconds.
    expect(judge({ 'cache-control': 'immutable' }, 'cache-control', { shared: false }).maxAge()).toBe(86_400_000);
    // headersFor always pairs immutable with an explicit max-age, which hcs takes first: no bug reach.
    for (const ttl of [0, 1, 600, MAX_SECONDS]) {
      const h = headersFor(cdnCache(ttl, { immutable: true }));
      expect(h['cache-control']).toBe(`max-age=${ttl}, immutable`);
      expect(judge(h, 'cache-control', { shared: false }).maxAge()).toBe(ttl);
      expect(judge(h, 'cache-control', { shared: true }).maxAge()).toBe(ttl);
    }
    // Tagged: capped at maxUnpurgeableAge even when immutable.
    const tagged = headersFor(cdnCache(3600, { immutable: true }), { tags: ['users'] });
    expect(judge(tagged, 'cache-control', { shared: false }).maxAge()).toBe(DEFAULT_CAP);
  });

  it('records http-cache-semantics deviation: it still emits the obsolete Warning 113', () => {
    // RFC 9111 obsoleted Warning; hcs adds 113 for a heuristic freshness > 24 h at age > 24 h.
    const bare = judge({ 'cache-control': 'immutable' }, 'cache-control', { shared: false, age: 90_000 });
    expect(bare.responseHeaders().warning).toBe('113 - "rfc7234 5.5.4"');
    // Our headers always give explicit freshness, so no Warning.
    const ours = judge(headersFor(browserCache(10 ** 6, { immutable: true })), 'cache-control', {
      shared: false,
      age: 90_000,
    });
    expect(ours.responseHeaders().warning).toBeUndefined();
  });

  it('records http-cache-semantics deviation: 206 is never storable', () => {
    const h = headersFor(cdnCache(600));
    for (const field of FIELDS) expect(judge(h, field, { shared: true, status: 206 }).storable()).toBe(false);
  });

  it('records http-cache-semantics deviation: `Vary: a, *` stops matching only from 4.3.0', () => {
    const p = judge({ 'cache-control': 'max-age=600', vary: 'accept, *' }, 'cache-control', { shared: false });
    expect(p.evaluateRequest(request()).response).toBeUndefined();
  });
});
