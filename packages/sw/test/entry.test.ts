import { describe, expect, it } from 'vitest';
import { annotate, cacheKey, isStorable, META, serve, stamp, storedAtOf } from '../src/entry.js';

describe('stored entries', () => {
  it('stamps stored-at, partition and tags into one header, and the policy vary into Vary', async () => {
    const origin = new Response('body', { headers: { vary: 'Accept-Encoding', 'content-type': 'text/plain' } });
    const stored = stamp(origin, {
      storedAt: 1234,
      partition: 'user:alice',
      tags: ['a', 'b:1'],
      vary: ['accept-language'],
    });
    expect(stored.headers.get(META)).toBe('1234 user:alice a b:1');
    expect(stored.headers.get('vary')).toBe('accept-encoding, accept-language');
    expect(await stored.text()).toBe('body');
    expect(storedAtOf(stored, 'user:alice')).toBe(1234);
    expect(storedAtOf(stored, 'user:bob')).toBeUndefined(); // never another partition's entry
    expect(storedAtOf(new Response('x'), 'public')).toBeUndefined();
  });

  it('serves with the metadata stripped, Age replaced (upstream + resident), the member appended', async () => {
    const cached = new Response('hello', {
      status: 200,
      headers: { [META]: '1 public t', age: '7', 'cache-status': 'origin; hit' },
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

  it('keys each Vary variant by its own URL, and HEAD by the GET entry', () => {
    const fr = new Request('https://x/a?q=1#frag', { headers: { 'accept-language': 'fr' } });
    const en = new Request('https://x/a?q=1', { headers: { 'accept-language': 'en' } });
    expect(cacheKey(fr, [], false)).toBe(fr);
    const frKey = cacheKey(fr, ['accept-language'], false);
    expect(frKey.url).toBe(`https://x/a?q=1&strata-vary=${encodeURIComponent('["fr"]')}`);
    expect(frKey.method).toBe('GET');
    expect(cacheKey(en, ['accept-language'], false).url).not.toBe(frKey.url);
    expect(cacheKey(new Request('https://x/a'), ['accept-language'], false).url).toBe(
      `https://x/a?strata-vary=${encodeURIComponent('[null]')}`,
    );
    const head = cacheKey(new Request('https://x/a', { method: 'HEAD' }), [], true);
    expect([head.method, head.url]).toEqual(['GET', 'https://x/a']);
  });

  it('annotates network responses, even null-body statuses, and leaves opaque ones alone', () => {
    expect(annotate(new Response(null, { status: 204 }), 'm').headers.get('cache-status')).toBe('m');
    expect(annotate(new Response('x', { headers: { 'cache-status': 'up' } }), 'm').headers.get('cache-status')).toBe(
      'up, m',
    );
  });
});
