import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBody } from '../src/cache/body.js';
import { etagFor, ifNoneMatchMatches } from '../src/cache/conditional.js';
import { decodeEntry, ENTRY_FORMAT, type Entry, encodeEntry } from '../src/cache/entry.js';
import { cacheKey, normalizeUrl, urlTag } from '../src/cache/key.js';
import { mergeVary } from '../src/cache/policy-headers.js';
import { cacheStatusMember } from '../src/cache/status.js';
import { globMatcher, globToRedisMatch } from '../src/store/glob.js';

describe('entry codec', () => {
  it('round-trips any entry byte-exact', () => {
    fc.assert(
      fc.property(
        fc.record({
          status: fc.integer({ min: 100, max: 599 }),
          // Any code points: the header's length is counted in UTF-8 bytes, not characters.
          fields: fc
            .array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })))
            .map((pairs) => pairs.flat()),
          etag: fc.option(fc.string({ unit: 'binary' }), { nil: null }),
          body: fc.uint8Array({ maxLength: 2048 }),
          storedAt: fc.nat(),
          age: fc.nat(),
          ttl: fc.nat(),
          swr: fc.nat(),
          sie: fc.nat(),
          tags: fc.dictionary(fc.string({ unit: 'binary' }), fc.nat()),
        }),
        (entry: Entry) => {
          expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
        },
      ),
    );
  });

  it('refuses truncated or foreign bytes with E_ENTRY_CORRUPT', () => {
    const bytes = encodeEntry({
      status: 200,
      fields: [],
      etag: null,
      body: new Uint8Array(3),
      storedAt: 0,
      age: 0,
      ttl: 1,
      swr: 0,
      sie: 0,
      tags: {},
    });
    for (const bad of [bytes.slice(0, 6), new TextEncoder().encode('plain text value'), new Uint8Array(2)]) {
      expect(() => decodeEntry(bad)).toThrow(expect.objectContaining({ code: 'E_ENTRY_CORRUPT' }));
    }
  });

  it('reads an entry of another format version as absent, and a header without one as corrupt', () => {
    const frame = (header: object) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(4 + json.byteLength);
      new DataView(out.buffer).setUint32(0, json.byteLength);
      out.set(json, 4);
      return out;
    };
    const fields = {
      status: 200,
      fields: ['etag', '"e"'],
      etag: '"e"',
      storedAt: 0,
      age: 0,
      ttl: 1,
      swr: 0,
      sie: 0,
      tags: {},
    };
    expect(decodeEntry(frame({ v: ENTRY_FORMAT, ...fields }))).toEqual({ ...fields, body: new Uint8Array(0) });
    // Format 1, as the previous build wrote it (fields as pairs, no etag apart): a miss, not garbage.
    const { fields: _, etag: __, ...common } = fields;
    expect(ENTRY_FORMAT).toBe(2);
    expect(decodeEntry(frame({ v: 1, ...common, headers: [['etag', '"e"']] }))).toBeUndefined();
    // This format with a field list that is not name/value pairs is corrupt.
    expect(() => decodeEntry(frame({ ...fields, v: ENTRY_FORMAT, fields: ['etag'] }))).toThrow(
      expect.objectContaining({ code: 'E_ENTRY_CORRUPT' }),
    );
    expect(decodeEntry(frame({ v: ENTRY_FORMAT + 1, ...fields }))).toBeUndefined();
    expect(decodeEntry(frame({ v: ENTRY_FORMAT + 1, layout: 'unknown' }))).toBeUndefined();
    for (const bad of [frame(fields), frame({ v: '1', ...fields }), frame([1])]) {
      expect(() => decodeEntry(bad)).toThrow(expect.objectContaining({ code: 'E_ENTRY_CORRUPT' }));
    }
  });
});

describe('keys', () => {
  it('normalizes URLs: host case, sorted query, no fragment', () => {
    expect(normalizeUrl('HTTP://App.Test/a/B?z=1&a=2&a=1#x')).toBe('http://app.test/a/B?a=2&a=1&z=1');
  });

  it('keys the canonical path: unreserved escapes decoded, other hex upper-cased, %2F kept (RFC 3986 §6.2.2)', () => {
    expect(normalizeUrl('http://a.test/api/v1/m%65')).toBe('http://a.test/api/v1/me');
    expect(normalizeUrl('http://a.test/%7euser/caf%c3%a9/a%2fb')).toBe('http://a.test/~user/caf%C3%A9/a%2Fb');
    for (const bad of ['http://a.test/a%zz', 'http://a.test/a%00', 'http://a.test/%FF']) {
      expect(() => normalizeUrl(bad), bad).toThrow(expect.objectContaining({ code: 'E_URL_INVALID' }));
    }
  });

  it('hashes vary values and the partition, never raw', () => {
    const headers = new Headers({ 'accept-language': 'fr' });
    const base = cacheKey('http://a.test/x', headers, []);
    expect(base).toBe('GET http://a.test/x');
    const fr = cacheKey('http://a.test/x', headers, ['accept-language']);
    expect(fr).toMatch(/^GET http:\/\/a\.test\/x #[\w-]{22}$/);
    expect(cacheKey('http://a.test/x', new Headers({ 'accept-language': ' fr ' }), ['accept-language'])).toBe(fr);
    expect(cacheKey('http://a.test/x', new Headers(), ['accept-language'])).not.toBe(fr);
    expect(cacheKey('http://a.test/x', new Headers(), [], 'alice')).not.toBe(
      cacheKey('http://a.test/x', new Headers(), [], 'bob'),
    );
    // A partition without Vary keys as it always did (the hash is memoized, not changed), so
    // entries stored before stay reachable.
    const alice = createHash('sha256').update('["alice"]').digest('base64url').slice(0, 22);
    expect(cacheKey('http://a.test/x', new Headers(), [], 'alice')).toBe(`GET http://a.test/x #${alice}`);
    expect(cacheKey('http://a.test/x', new Headers(), [], 'alice')).toBe(`GET http://a.test/x #${alice}`);
  });

  it('gives one URL tag per path and query, whatever the host or query order', () => {
    expect(urlTag('http://a.test/x?b=1&a=2')).toBe(urlTag('/x?a=2&b=1'));
    expect(urlTag('/x')).not.toBe(urlTag('/x?a=1'));
    expect(urlTag('/x')).toMatch(/^url:[\w-]{22}$/);
    expect(urlTag('/api/%75sers/3')).toBe(urlTag('http://a.test/api/users/3'));
    // A path starting with // is a path, not a host: it is not the tag of /users/1.
    expect(urlTag('//api/users/1')).toBe(urlTag(new URL('http://a.test//api/users/1')));
    expect(urlTag('//api/users/1')).not.toBe(urlTag('/users/1'));
  });
});

describe('Cache-Status members (RFC 9211)', () => {
  it('formats parameters as bare booleans, integers and tokens; hit and fwd exclusive', () => {
    expect(cacheStatusMember('strata', { hit: true, ttl: 41.9 })).toBe('strata; hit; ttl=41');
    expect(cacheStatusMember('strata', { fwd: 'uri-miss', fwdStatus: 200, stored: true, collapsed: true })).toBe(
      'strata; fwd=uri-miss; fwd-status=200; stored; collapsed',
    );
    expect(cacheStatusMember('strata', { hit: true, fwd: 'stale' })).toBe('strata; hit');
    expect(cacheStatusMember('strata', { fwd: 'bypass', detail: 'two words' })).toBe(
      'strata; fwd=bypass; detail="two words"',
    );
  });
});

describe('conditional requests', () => {
  it('uses weak comparison for If-None-Match (RFC 9110 §13.1.2)', () => {
    expect(ifNoneMatchMatches('W/"a"', '"a"')).toBe(true);
    expect(ifNoneMatchMatches('"a"', 'W/"a"')).toBe(true);
    expect(ifNoneMatchMatches('"b", "a"', '"a"')).toBe(true);
    expect(ifNoneMatchMatches('"b"', '"a"')).toBe(false);
    expect(ifNoneMatchMatches('*', '"a"')).toBe(true);
    expect(ifNoneMatchMatches(null, '"a"')).toBe(false);
  });

  it('derives distinct strong ETags per body and content coding', () => {
    const body = new TextEncoder().encode('x');
    expect(etagFor(body, null)).toBe(etagFor(body, 'identity'));
    expect(etagFor(body, 'gzip')).not.toBe(etagFor(body, null));
    expect(etagFor(new TextEncoder().encode('y'), null)).not.toBe(etagFor(body, null));
  });
});

describe('vary merging', () => {
  it('adds each field once, keeping the handler’s', () => {
    expect(mergeVary('Accept, accept-language', ['Accept-Language', 'authorization'])).toBe(
      'Accept, accept-language, authorization',
    );
    expect(mergeVary(null, [])).toBeNull();
  });
});

describe('globs', () => {
  it('matches * and ? and nothing else specially', () => {
    const matches = globMatcher('GET http://a.test/users/*?x=[1]');
    expect(matches('GET http://a.test/users/42?x=[1]')).toBe(true);
    expect(matches('GET http://a.test/users/42?x=1')).toBe(false);
    expect(globMatcher('a?c')('abc')).toBe(true);
    expect(globMatcher('a.c')('abc')).toBe(false);
    expect(globMatcher('*')('')).toBe(true);
    expect(globMatcher('a*')('b')).toBe(false);
    expect(globMatcher('*b*')('abc')).toBe(true);
    expect(globMatcher('é?')('éx')).toBe(true);
  });

  it('agrees with a reference regular expression on generated cases', () => {
    const toRegExp = (glob: string) =>
      new RegExp(
        `^${[...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`,
        's',
      );
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?]{0,8}$/), fc.stringMatching(/^[ab]{0,10}$/), (glob, key) => {
        expect(globMatcher(glob)(key)).toBe(toRegExp(glob).test(key));
      }),
    );
  });

  it('agrees with the reference on patterns spanning several 32-position words', () => {
    const toRegExp = (glob: string) =>
      new RegExp(`^${[...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c)).join('')}$`, 's');
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*?]{30,90}$/), fc.stringMatching(/^[ab]{0,120}$/), (glob, key) => {
        expect(globMatcher(glob)(key)).toBe(toRegExp(glob).test(key));
      }),
    );
    // A match that needs every word: 70 literal positions and a star in the middle.
    const long = `${'ab'.repeat(20)}*${'ba'.repeat(15)}`;
    expect(globMatcher(long)(`${'ab'.repeat(20)}xyz${'ba'.repeat(15)}`)).toBe(true);
    expect(globMatcher(long)(`${'ab'.repeat(20)}xyz${'ba'.repeat(15)}a`)).toBe(false);
  });

  it('costs at most key length × ⌈pattern length / 32⌉ steps, whatever the pattern', () => {
    // The two-pointer matcher took about key × pattern (8 million) steps on this pair.
    const matches = globMatcher(`*${'a'.repeat(1022)}b`);
    const key = 'a'.repeat(8192);
    expect(matches(key)).toBe(false);
    expect(matches.steps).toBeLessThanOrEqual(1 + 8192 * Math.ceil(1025 / 32));
    const ordinary = globMatcher('GET http://a.test/users/*');
    expect(ordinary(`GET http://b.test/${'x'.repeat(8000)}`)).toBe(false);
    expect(ordinary.steps).toBeLessThan(20); // dies at the first differing character
  });

  it('answers hostile patterns without backtracking blow-up', () => {
    expect(globMatcher(`${'*a'.repeat(40)}*`)(`${'a'.repeat(20000)}b`.replace(/a/g, 'c'))).toBe(false);
  });

  it('escapes Redis MATCH specials', () => {
    expect(globToRedisMatch('a[b]\\c^*?')).toBe('a\\[b\\]\\\\c\\^*?');
  });
});

describe('readBody', () => {
  it('reads small bodies whole and replays large ones without losing bytes', async () => {
    const data = Uint8Array.from({ length: 3000 }, (_, i) => i % 256);
    const whole = await readBody(new Response(data).body, 5000);
    expect('bytes' in whole && whole.bytes).toEqual(data);
    const large = await readBody(new Response(data).body, 100);
    expect('stream' in large).toBe(true);
    if ('stream' in large) expect(new Uint8Array(await new Response(large.stream).arrayBuffer())).toEqual(data);
    const empty = await readBody(null, 10);
    expect('bytes' in empty && empty.bytes.length).toBe(0);
  });
});
