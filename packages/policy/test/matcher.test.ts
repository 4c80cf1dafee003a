import { defineManifest, type Manifest, matchRoute, noStore, parsePattern, serverCache } from '@strata/policy';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const policy = serverCache(60);
const manifestOf = (...patterns: (string | { match: string; methods?: ('GET' | 'HEAD' | 'POST')[] })[]): Manifest =>
  defineManifest({
    version: 1,
    routes: patterns.map((p) =>
      typeof p === 'string' ? { match: p, policy } : { ...p, policy: p.methods?.includes('POST') ? noStore() : policy },
    ),
  });
const indexOf = (m: Manifest, url: string | URL, method?: string) => matchRoute(m, url, method)?.index;

describe('matchRoute', () => {
  it('matches literal paths exactly', () => {
    const m = manifestOf('/', '/a', '/a/b');
    expect(indexOf(m, '/')).toBe(0);
    expect(indexOf(m, '/a')).toBe(1);
    expect(indexOf(m, '/a/b')).toBe(2);
    expect(indexOf(m, '/a/')).toBeUndefined();
    expect(indexOf(m, '/a/b/c')).toBeUndefined();
    expect(indexOf(m, '/b')).toBeUndefined();
  });

  it('captures and decodes :params, one non-empty segment each', () => {
    const m = manifestOf('/users/:id', '/orgs/:org/repos/:repo');
    expect(matchRoute(m, '/users/42')?.params).toEqual({ id: '42' });
    expect(matchRoute(m, '/users/J%C3%BCrgen')?.params).toEqual({ id: 'Jürgen' });
    expect(matchRoute(m, '/users/a%2Fb')?.params).toEqual({ id: 'a/b' });
    expect(matchRoute(m, '/orgs/x/repos/y')?.params).toEqual({ org: 'x', repo: 'y' });
    expect(indexOf(m, '/users/')).toBeUndefined();
    expect(indexOf(m, '/users/1/2')).toBeUndefined();
  });

  it('matches no route for a path with an invalid escape, %00 or bytes that are not UTF-8, and never throws', () => {
    // Formerly matched as-is (the raw text kept as the param): such a path is never stored anywhere.
    const m = manifestOf('/users/:id', '/static/*');
    for (const path of [
      '/users/%E0%A4%A',
      '/users/%zz',
      '/users/100%',
      '/users/a%00',
      '/users/%FF',
      '/static/%00.js',
    ]) {
      expect(indexOf(m, path), path).toBeUndefined();
    }
  });

  it('matches percent-encoded unreserved characters like their decoded form (RFC 3986 §6.2.2.2)', () => {
    const m = manifestOf('/api/v1/me', '/api/v1/users/:id', '/api/v1/files*', '/caf%C3%A9', '/a%2Fb');
    expect(indexOf(m, '/api/v1/m%65')).toBe(0);
    expect(indexOf(m, '/%61pi/%76%31/%6D%65')).toBe(0);
    expect(indexOf(m, new URL('http://a.test/api/v1/m%65'))).toBe(0);
    expect(matchRoute(m, '/api/v1/%75sers/3')?.params).toEqual({ id: '3' });
    expect(indexOf(m, '/api/v1/%66iles-x')).toBe(2);
    // Escapes of other characters stay escapes, compared without regard to the case of their hex.
    expect(indexOf(m, '/caf%c3%a9')).toBe(3);
    expect(indexOf(m, '/a%2fb')).toBe(4);
    // %2F never becomes a separator; inside a param it is decoded as part of the one value.
    expect(indexOf(m, '/a/b')).toBeUndefined();
    expect(matchRoute(m, '/api/v1/users/a%2Fb')?.params).toEqual({ id: 'a/b' });
    expect(matchRoute(m, '/api/v1/users/%33')?.params).toEqual({ id: '3' });
  });

  it('property: any percent-encoding of a path matches like the path itself (route, params, tags)', () => {
    const m = defineManifest({
      version: 1,
      routes: [
        { match: '/api/v1/me', policy: serverCache(60, { scope: 'private' }) },
        { match: '/api/v1/users/:id', policy: serverCache(60, { tags: ['user:{id}'] }) },
        { match: '/api/v1/users*', policy: serverCache(60, { tags: ['users'] }) },
        { match: '/static/*', policy: serverCache(60) },
      ],
    });
    const paths = ['/api/v1/me', '/api/v1/users/42', '/api/v1/users/a-b_c.d~e', '/api/v1/users-x', '/static/app.js'];
    const hex = (c: string, upper: boolean) => {
      const h = c.charCodeAt(0).toString(16).padStart(2, '0');
      return `%${upper ? h.toUpperCase() : h}`;
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.array(fc.constantFrom('plain', 'upper', 'lower'), { minLength: 32, maxLength: 32 }),
        (path, how) => {
          const encoded = [...path]
            .map((c, i) => (c === '/' || how[i] === 'plain' ? c : hex(c, how[i] === 'upper')))
            .join('');
          const expected = matchRoute(m, path);
          const got = matchRoute(m, encoded);
          expect(got?.index, encoded).toBe(expected?.index);
          expect(got?.params, encoded).toEqual(expected?.params);
          expect(got?.tags, encoded).toEqual(expected?.tags);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('treats empty segments as a miss, never an error (// is a path here, not a host)', () => {
    const m = manifestOf('/api/v1/users/:id', '/api/*');
    expect(indexOf(m, '//api/v1/users/1')).toBeUndefined();
    expect(indexOf(m, '//api/v1/users/1?x=1')).toBeUndefined();
    expect(indexOf(m, '/api//v1')).toBe(1);
    expect(indexOf(m, '//api/../api/x')).toBeUndefined();
  });

  it('matches a trailing * against any rest, including slashes', () => {
    const m = manifestOf('/static/*', '/api/v1/users*');
    expect(indexOf(m, '/static/app.js')).toBe(0);
    expect(indexOf(m, '/static/a/b/c.css')).toBe(0);
    expect(indexOf(m, '/static/')).toBe(0);
    expect(indexOf(m, '/static')).toBeUndefined();
    expect(indexOf(m, '/api/v1/users')).toBe(1);
    expect(indexOf(m, '/api/v1/users/42')).toBe(1);
    expect(indexOf(m, '/api/v1/usersettings')).toBe(1);
    expect(indexOf(m, '/api/v1/user')).toBeUndefined();
  });

  it('first match wins, whichever branch of the trie it is on', () => {
    expect(indexOf(manifestOf('/users/:id', '/users/me'), '/users/me')).toBe(0);
    expect(indexOf(manifestOf('/users/me', '/users/:id'), '/users/me')).toBe(0);
    expect(indexOf(manifestOf('/users/me', '/users/:id'), '/users/7')).toBe(1);
    expect(indexOf(manifestOf('/api/*', '/api/users'), '/api/users')).toBe(0);
    expect(indexOf(manifestOf('/api/users', '/api/*'), '/api/users')).toBe(0);
    expect(indexOf(manifestOf('/a/:x/c', '/a/b/:y'), '/a/b/c')).toBe(0);
    expect(indexOf(manifestOf('/a/b/:y', '/a/:x/c'), '/a/b/c')).toBe(0);
    expect(indexOf(manifestOf('/a/b/:y', '/a/*', '/a/:x/c'), '/a/b/c')).toBe(0);
    expect(indexOf(manifestOf('/a/b/z', '/a/*', '/a/:x/c'), '/a/b/c')).toBe(1);
  });

  it('falls back to a later route when the earlier branch dead-ends', () => {
    const m = manifestOf('/a/b/c/d', '/a/:x/c');
    expect(indexOf(m, '/a/b/c')).toBe(1);
  });

  it('ignores the query string and fragment, and accepts absolute URLs and URL objects', () => {
    const m = manifestOf('/search');
    expect(indexOf(m, '/search?q=1&b=2')).toBe(0);
    expect(indexOf(m, '/search#top')).toBe(0);
    expect(indexOf(m, 'https://example.com/search?q=1')).toBe(0);
    expect(indexOf(m, new URL('https://example.com/search?x'))).toBe(0);
  });

  it('resolves dot segments the way a URL parser does', () => {
    const m = manifestOf('/static/*', '/api/me');
    expect(indexOf(m, '/static/../api/me')).toBe(1);
    expect(indexOf(m, '/static/%2e%2e/api/me')).toBe(1);
    expect(indexOf(m, '/static/./x.js')).toBe(0);
  });

  it('applies method lists: GET and HEAD by default, HEAD wherever GET is allowed', () => {
    const m = manifestOf({ match: '/form', methods: ['POST'] }, '/form', { match: '/only-get', methods: ['GET'] });
    expect(indexOf(m, '/form', 'POST')).toBe(0);
    expect(indexOf(m, '/form', 'GET')).toBe(1);
    expect(indexOf(m, '/form', 'HEAD')).toBe(1);
    expect(indexOf(m, '/form', 'post')).toBe(0);
    expect(indexOf(m, '/form', 'DELETE')).toBeUndefined();
    expect(indexOf(m, '/only-get', 'HEAD')).toBe(2);
  });

  it('expands tag templates with decoded, tag-safe params', () => {
    const m = defineManifest({
      version: 1,
      routes: [{ match: '/users/:id', policy: serverCache(60, { tags: ['users', 'user:{id}', 'users'] }) }],
    });
    expect(matchRoute(m, '/users/42')?.tags).toEqual(['users', 'user:42']);
    expect(matchRoute(m, '/users/a%20b,c')?.tags).toEqual(['users', 'user:a%20b%2Cc']);
    expect(matchRoute(m, '/users/100%25')?.tags).toEqual(['users', 'user:100%25']);
    expect(matchRoute(m, '/users/%C3%A9')?.tags).toEqual(['users', 'user:%C3%A9']);
  });

  it('drops a tag that would cross the CDN length limit rather than emit an unpurgeable one', () => {
    const m = defineManifest({
      version: 1,
      routes: [{ match: '/users/:id', policy: serverCache(60, { tags: ['users', 'user:{id}'] }) }],
    });
    expect(matchRoute(m, `/users/${'x'.repeat(2000)}`)?.tags).toEqual(['users']);
  });

  it('returns the route, its policy and its index', () => {
    const m = manifestOf('/a', '/b');
    const match = matchRoute(m, '/b');
    expect(match?.route).toBe(m.routes[1]);
    expect(match?.policy).toBe(m.routes[1]?.policy);
  });

  it('matches the same on a JSON copy of the manifest (compiled matchers live beside the data)', () => {
    const m = manifestOf('/users/:id', '/static/*');
    const copy = JSON.parse(JSON.stringify(m)) as Manifest;
    expect(matchRoute(copy, '/users/3')?.params).toEqual({ id: '3' });
    expect(matchRoute(copy, '/static/x')?.index).toBe(1);
    expect(Object.keys(m)).toEqual(['version', 'defaults', 'routes']);
  });

  it('agrees with a linear first-match scan on many routes', () => {
    const patterns: string[] = [];
    for (let i = 0; i < 300; i++) {
      patterns.push(`/r${i % 40}/:id`, `/r${i % 40}/items/${i}`, `/r${i % 30}/x*`, `/r${i}`);
    }
    const m = manifestOf(...patterns);
    const compiled = patterns.map((p) => parsePattern(p));
    const linear = (url: string) =>
      compiled.findIndex((p) => {
        const segs = url.slice(1).split('/');
        if (p.wildcard) {
          const n = p.segments.length;
          if (segs.length <= n || !(segs[n] as string).startsWith(p.wildcard.prefix)) return false;
        } else if (segs.length !== p.segments.length) return false;
        return p.segments.every((s, i) => (s.kind === 'static' ? s.value === segs[i] : segs[i] !== ''));
      });
    for (let i = 0; i < 400; i++) {
      for (const url of [`/r${i % 50}/${i}`, `/r${i % 50}/items/${i}`, `/r${i % 35}/x${i}`, `/r${i}`, `/r${i}/`]) {
        const expected = linear(url);
        expect(indexOf(m, url), url).toBe(expected === -1 ? undefined : expected);
      }
    }
  });
});
