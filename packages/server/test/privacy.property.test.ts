/**
 * No request with a different credential ever receives a stored private or credential-varied
 * answer: neither from the server cache (`handle` with a memory store and a partition read from
 * Authorization) nor from a browser's HTTP cache in front of it, simulated by http-cache-semantics
 * 4.3.0 (`shared: false`) from the headers `handle` sends. Paths are spelled with random
 * percent-encoding, so every spelling of one path must behave as that path.
 */
import { defineManifest, type Level, type Policy } from '@strata/policy';
import { createStrata, memoryStore } from '@strata/server';
import fc from 'fast-check';
import CachePolicy from 'http-cache-semantics';
import { describe, expect, it } from 'vitest';

const NOW = Date.UTC(2026, 0, 1);
const NUM_RUNS = 200;

/** The browser's judge on the same fixed clock as the server: nothing depends on elapsed time. */
class BrowserEntry extends CachePolicy {
  now(): number {
    return NOW;
  }
}

const CREDENTIALS = ['authorization', 'cookie'] as const;
type Credential = (typeof CREDENTIALS)[number];
type Credentials = Partial<Record<Credential, string>>;

const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    ttl: fc.integer({ min: 1, max: 3600 }),
    browser: fc.boolean(),
    cdn: fc.boolean(),
    private: fc.boolean(),
    varied: fc.subarray([...CREDENTIALS], { minLength: 1 }),
    accept: fc.boolean(),
    staleWhileRevalidate: fc.integer({ min: 0, max: 60 }),
  })
  .map((r): Policy => {
    const levels: Level[] = ['server'];
    if (r.browser) levels.push('browser');
    if (r.cdn && !r.private) levels.push('cdn');
    // A public policy is in scope when it varies on a credential; a private one whatever its vary.
    const vary: string[] = r.private ? [] : [...r.varied];
    if (r.accept) vary.push('accept');
    const policy: Policy = { ttl: r.ttl, levels, tags: ['item:{id}'], staleWhileRevalidate: r.staleWhileRevalidate };
    if (r.private) policy.scope = 'private';
    if (vary.length > 0) policy.vary = vary;
    return policy;
  });

/** `text` with each character randomly left alone (mostly) or percent-encoded, in either hex case. */
const spelledArb = (text: string): fc.Arbitrary<string> =>
  fc.tuple(...[...text].map(() => fc.constantFrom('plain', 'plain', 'plain', 'upper', 'lower'))).map((how) =>
    [...text]
      .map((c, i) => {
        if (how[i] === 'plain' || c === '/') return c;
        const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
        return `%${how[i] === 'upper' ? hex.toUpperCase() : hex}`;
      })
      .join(''),
  );

/** A few spellings of two paths per run; each step picks one, so the browser sees repeats. */
const spellingsArb = fc.array(fc.constantFrom('/items/7', '/items/8').chain(spelledArb), {
  minLength: 1,
  maxLength: 3,
});

const stepArb = fc.record({
  spelling: fc.nat(),
  credentials: fc.record(
    {
      authorization: fc.constantFrom('Bearer alice', 'Bearer bob'),
      cookie: fc.constantFrom('sid=alice', 'sid=bob'),
    },
    { requiredKeys: [] },
  ),
  accept: fc.constantFrom('text/plain', 'application/json'),
});

/** The credentials that select an answer at one layer: the ones that must match the requester's. */
function selecting(policy: Policy, layer: 'server' | 'browser'): readonly Credential[] {
  if (policy.scope === 'private') return layer === 'server' ? ['authorization'] : CREDENTIALS;
  return CREDENTIALS.filter((name) => policy.vary?.includes(name));
}

describe('no request with a different credential gets a stored private or credential-varied answer', () => {
  it('at the server and in a browser HTTP cache in front of it', async () => {
    // Answers reused at each layer over every run: the property must have reused something.
    const reused = { server: 0, browser: 0 };
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        spellingsArb,
        fc.array(stepArb, { minLength: 2, maxLength: 8 }),
        async (policy, spellings, steps) => {
          const manifest = defineManifest({ version: 1, routes: [{ match: '/items/:id', policy }] });
          const strata = createStrata({
            manifest,
            store: memoryStore({ now: () => NOW }),
            now: () => NOW,
            partition: (request) => request.headers.get('authorization') ?? undefined,
          });
          // The origin answers with the credentials it was asked with.
          const origin = async (request: Request) =>
            Response.json({
              authorization: request.headers.get('authorization'),
              cookie: request.headers.get('cookie'),
            });
          // Each browser entry keeps the credentials it was fetched with and the body it holds.
          const browser = new Map<string, { entry: BrowserEntry; fetchedWith: Credentials; body: Credentials }[]>();
          try {
            for (const step of steps) {
              const headers: Record<string, string> = { ...step.credentials, accept: step.accept };
              const path = spellings[step.spelling % spellings.length] as string;
              const url = `http://app.test${path}`;
              const asked = { url: path, method: 'GET', headers };
              const cached = browser.get(url)?.find(({ entry }) => entry.evaluateRequest(asked).response);
              if (cached) {
                reused.browser++;
                for (const name of selecting(policy, 'browser')) {
                  expect(cached.fetchedWith[name] ?? null, `browser: ${name}`).toBe(step.credentials[name] ?? null);
                }
                // …and so the body is the one the server made for this requester.
                for (const name of selecting(policy, 'server')) {
                  expect(cached.body[name] ?? null, `browser: ${name}`).toBe(step.credentials[name] ?? null);
                }
                continue;
              }
              const response = await strata.handle(new Request(url, { headers }), origin);
              const body = (await response.json()) as Credentials;
              if (response.headers.get('x-cache') === 'HIT') reused.server++;
              for (const name of selecting(policy, 'server')) {
                expect(body[name] ?? null, `server: ${name} (${response.headers.get('x-cache')})`).toBe(
                  step.credentials[name] ?? null,
                );
              }
              const responseHeaders = Object.fromEntries(response.headers);
              const entry = new BrowserEntry(
                asked,
                { status: response.status, headers: responseHeaders },
                { shared: false },
              );
              if (entry.storable())
                browser.set(url, [{ entry, fetchedWith: step.credentials, body }, ...(browser.get(url) ?? [])]);
            }
          } finally {
            await strata.close();
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
    console.log('REUSED', JSON.stringify(reused));
    expect(reused.server).toBeGreaterThan(0);
    expect(reused.browser).toBeGreaterThan(0);
    // A budget for 200 runs on a loaded machine, not an assertion about speed.
  }, 120_000);
});
