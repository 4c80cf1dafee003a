import { DEFAULT_CREDENTIAL_HEADERS } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import {
  annotate,
  cacheKey,
  headerDigest,
  isStorable,
  META,
  NONE,
  serve,
  stamp,
  storedAtFor,
  storedVary,
} from '../src/entry.js';

const credentialDigest = (request: Request) => headerDigest(request, DEFAULT_CREDENTIAL_HEADERS);

describe('stored entries', () => {
  it('stamps stored-at, partition, credential, variant and tags into one header, and the policy vary into Vary', async () => {
    const origin = new Response('body', { headers: { vary: 'Accept-Encoding', 'content-type': 'text/plain' } });
    const alice = new Request('https://x/me', {
      headers: { authorization: 'Bearer alice.t0ken', 'accept-language': 'fr' },
    });
    const vary = storedVary(origin.headers.get('vary'), ['accept-language']);
    expect(vary).toEqual(['accept-encoding', 'accept-language']);
    const credential = await credentialDigest(alice);
    const variant = await headerDigest(alice, vary);
    const stored = stamp(
      origin,
      { storedAt: 1234, partition: 'user:alice', credential, variant, tags: ['a', 'b:1'] },
      vary,
    );
    expect(stored.headers.get(META)).toBe(`1234 user:alice ${credential} ${variant} a b:1`);
    expect(stored.headers.get(META)).not.toContain('t0ken');
    expect(credential).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.headers.get('vary')).toBe('accept-encoding, accept-language');
    expect(await storedAtFor(stored, alice, 'user:alice', credential)).toEqual([1234, undefined]);
    expect(await storedAtFor(stored, alice, 'user:bob', credential)).toBeUndefined(); // never another partition's entry
    // Another credential, or none, never gets it.
    const bare = new Request('https://x/me', { headers: { 'accept-language': 'fr' } });
    expect(await storedAtFor(stored, bare, 'user:alice', await credentialDigest(bare))).toBeUndefined();
    // Another value of a Vary field selects another variant.
    const en = new Request('https://x/me', {
      headers: { authorization: 'Bearer alice.t0ken', 'accept-language': 'en' },
    });
    expect(await storedAtFor(stored, en, 'user:alice', credential)).toBeUndefined();
    expect(await stored.text()).toBe('body');
    expect(await storedAtFor(new Response('x'), bare, 'public', NONE)).toBeUndefined();
    const older = new Response('x', { headers: { [META]: '1 public' } }); // before credential and variant
    expect(await storedAtFor(older, bare, 'public', NONE)).toBeUndefined();
    const plain = stamp(
      new Response('x'),
      { storedAt: 5, partition: 'public', credential: NONE, variant: NONE, tags: [] },
      [],
    );
    expect(await storedAtFor(plain, bare, 'public', NONE)).toEqual([5, undefined]);
    // A soft purge's mark after the stored-at; of two marks, the first counts.
    const soft = new Response('x', { headers: { [META]: '5~9~12 public - - t' } });
    expect(await storedAtFor(soft, bare, 'public', NONE)).toEqual([5, 9]);
  });

  it("binds a personal entry to the values of the manifest's credential headers, whichever they are", async () => {
    const keyed = ['x-api-key'];
    const alice = new Request('https://x/me', { headers: { 'x-api-key': 'alice.k3y' } });
    const bob = new Request('https://x/me', { headers: { 'x-api-key': 'bob.k3y' } });
    expect(await headerDigest(alice, keyed)).not.toBe(await headerDigest(bob, keyed));
    expect(await headerDigest(alice, keyed)).not.toBe(await headerDigest(new Request('https://x/me'), keyed));
  });

  it('serves with the metadata stripped, Age replaced (upstream + resident), the member appended', async () => {
    const cached = new Response('hello', {
      status: 200,
      headers: { [META]: '1 public - - t', age: '7', 'cache-status': 'origin; hit' },
    });
    const served = serve(cached, 'strata-sw; hit; ttl=5', 12_900, false);
    expect(served.headers.get(META)).toBeNull();
    expect(served.headers.get('age')).toBe('19');
    expect(served.headers.get('cache-status')).toBe('origin; hit, strata-sw; hit; ttl=5');
    expect(await served.text()).toBe('hello');
    const head = serve(new Response('hello'), 'm', 0, true);
    expect(head.body).toBeNull();
  });

  it('stores only 200s that are not opaque, not Vary: *, not no-store', () => {
    expect(isStorable(new Response('x'))).toBe(true);
    expect(isStorable(new Response('x', { status: 404 }))).toBe(false);
    expect(isStorable(new Response('x', { status: 500 }))).toBe(false);
    expect(isStorable(new Response('x', { headers: { vary: 'accept, *' } }))).toBe(false);
    expect(isStorable(new Response('x', { headers: { 'cache-control': 'private, No-Store' } }))).toBe(false);
    expect(isStorable(new Response('x', { headers: { 'cache-control': 'private, max-age=60' } }))).toBe(true);
  });

  it('keys each Vary variant by its own URL holding a digest of the values, with no request headers', async () => {
    const fr = new Request('https://x/a?q=1#frag', {
      headers: { 'accept-language': 'fr', authorization: 'Bearer t0ken' },
    });
    const en = new Request('https://x/a?q=1', { headers: { 'accept-language': 'en' } });
    const plain = await cacheKey(fr, []);
    expect(plain.url).toBe('https://x/a?q=1');
    expect([...plain.headers]).toEqual([]);
    const frKey = await cacheKey(fr, ['accept-language', 'authorization']);
    expect(frKey.url).toMatch(/^https:\/\/x\/a\?q=1&strata-vary=[0-9a-f]{64}$/);
    expect(frKey.url).not.toContain('t0ken');
    expect([...frKey.headers]).toEqual([]);
    expect(frKey.method).toBe('GET');
    expect((await cacheKey(en, ['accept-language'])).url).not.toBe((await cacheKey(fr, ['accept-language'])).url);
    const head = await cacheKey(new Request('https://x/a', { method: 'HEAD' }), []);
    expect([head.method, head.url]).toEqual(['GET', 'https://x/a']);
  });

  it('annotates network responses, even null-body statuses, and leaves opaque ones alone', () => {
    expect(annotate(new Response(null, { status: 204 }), 'm').headers.get('cache-status')).toBe('m');
    expect(annotate(new Response('x', { headers: { 'cache-status': 'up' } }), 'm').headers.get('cache-status')).toBe(
      'up, m',
    );
  });
});
