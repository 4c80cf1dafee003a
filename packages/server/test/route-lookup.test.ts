import { defineManifest, serverCache } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { routeLookup } from '../src/route-lookup.js';

const manifest = defineManifest({
  version: 1,
  routes: [
    { match: '/api/items/:id', policy: serverCache(60, { tags: ['item:{id}'] }) },
    { match: '/api/items/:id', methods: ['PUT'], policy: serverCache(0), invalidates: ['item:{id}'] },
  ],
});

/** The memo's bound (`MAX_PLACES` in route-lookup.ts). */
const MAX_PLACES = 10_000;

describe('routeLookup (the memo the fast path and handle share)', () => {
  it('answers each method and URL once, and each method for itself', () => {
    const locate = routeLookup(manifest);
    const get = locate('GET', 'http://app.test/api/items/1');
    expect(locate('GET', 'http://app.test/api/items/1')).toBe(get); // memoized
    expect(get).toMatchObject({ url: 'http://app.test/api/items/1', stored: { tags: ['item:1', expect.any(String)] } });
    const put = locate('PUT', 'http://app.test/api/items/1');
    expect(put).not.toBe(get);
    expect(typeof put === 'object' && put.match?.invalidates).toEqual(['item:1']);
    expect(locate('HEAD', 'http://app.test/api/items/1')).not.toBe(get);
    expect(locate('GET', 'not a url')).toBe('invalid');
    expect(locate('GET', 'http://app.test/api/items/%FF')).toBe('odd');
  });

  it('is bounded: once it holds its limit over every method, it starts again, with the same answers', () => {
    const locate = routeLookup(manifest);
    const first = locate('GET', 'http://app.test/api/items/0');
    // Methods a client chooses count against the same bound as URLs.
    for (let i = 1; i < MAX_PLACES; i++) locate(i % 2 === 0 ? 'GET' : `M${i}`, `http://app.test/api/items/${i}`);
    expect(locate('GET', 'http://app.test/api/items/0')).toBe(first); // still held: at the limit, not past it
    locate('GET', 'http://app.test/api/items/next'); // past it: cleared whole
    const again = locate('GET', 'http://app.test/api/items/0');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
