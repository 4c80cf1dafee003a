import {
  defineManifest,
  fullCache,
  isManifestError,
  isStrataError,
  ManifestError,
  type ManifestIssue,
  noStore,
  serverCache,
} from '@strata/policy';
import { manifestIssues, parseManifest } from '@strata/policy/validate';
import { describe, expect, it } from 'vitest';

const route = (match: string, policy: unknown, extra: Record<string, unknown> = {}) => ({ match, policy, ...extra });
const valid = { ttl: 60, levels: ['browser', 'server'] };
const issuesOf = (routes: unknown[], rest: Record<string, unknown> = {}): ManifestIssue[] =>
  manifestIssues({ version: 1, routes, ...rest });

function expectIssue(issues: ManifestIssue[], path: string, message: RegExp) {
  expect(issues, JSON.stringify(issues, null, 2)).toContainEqual({ path, message: expect.stringMatching(message) });
}

describe('parseManifest', () => {
  it('returns the normalized manifest and round-trips through JSON', () => {
    const manifest = parseManifest({
      version: 2,
      defaults: { staleIfError: 300 },
      routes: [route('/users/:id', { ttl: 60, levels: ['server', 'browser'], tags: ['user:{id}'], vary: ['Accept'] })],
    });
    expect(manifest).toEqual({
      version: '2',
      defaults: { maxUnpurgeableAge: 60, credentialHeaders: ['authorization', 'cookie'], negativeTtl: 10 },
      routes: [
        {
          match: '/users/:id',
          methods: ['GET', 'HEAD'],
          policy: { ttl: 60, levels: ['browser', 'server'], tags: ['user:{id}'], vary: ['accept'], staleIfError: 300 },
        },
      ],
    });
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
  });

  it('reads credentialHeaders (lower-cased, each once) and negativeTtl, and rejects bad values', () => {
    const manifest = parseManifest({
      version: 1,
      defaults: { credentialHeaders: ['Authorization', 'X-Session', 'authorization'], negativeTtl: 5 },
      routes: [route('/a', valid)],
    });
    expect(manifest.defaults.credentialHeaders).toEqual(['authorization', 'x-session']);
    expect(manifest.defaults.negativeTtl).toBe(5);
    expect(
      parseManifest({ version: 1, defaults: { credentialHeaders: [] }, routes: [] }).defaults.credentialHeaders,
    ).toEqual([]);
    const issues = manifestIssues({
      version: 1,
      defaults: { credentialHeaders: ['x y', '*'], negativeTtl: -1 },
      routes: [],
    });
    expectIssue(issues, 'defaults.credentialHeaders[0]', /header name/);
    expectIssue(issues, 'defaults.credentialHeaders[1]', /header name/);
    expectIssue(issues, 'defaults.negativeTtl', /must not be negative/);
  });

  it('applies manifest defaults to storing routes only, never over mustRevalidate or the route’s own value', () => {
    const manifest = parseManifest({
      version: 'v',
      defaults: { staleWhileRevalidate: 30, staleIfError: 300, maxUnpurgeableAge: 10 },
      routes: [
        route('/a', valid),
        route('/b', { ...valid, staleWhileRevalidate: 5 }),
        route('/c', { ...valid, mustRevalidate: true }),
        route('/d', noStore()),
      ],
    });
    expect(manifest.defaults.maxUnpurgeableAge).toBe(10);
    expect(manifest.routes.map((r) => [r.policy.staleWhileRevalidate, r.policy.staleIfError])).toEqual([
      [30, 300],
      [5, 300],
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('accepts what defineManifest produced, and a $schema key for editors', () => {
    const manifest = defineManifest({ version: 1, routes: [{ match: '/x', policy: fullCache(5) }] });
    expect(parseManifest({ ...manifest, $schema: './node_modules/@strata/policy/schema.json' })).toEqual(manifest);
  });

  it('throws a ManifestError that lists every issue with its path', () => {
    let caught: unknown;
    try {
      parseManifest({
        version: '',
        routes: [route('/a/:id', { ttl: -1, levels: ['edge'], tags: ['user:{uid}'] }), route('nope', { ttl: 1.5 })],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ManifestError);
    expect(isManifestError(caught)).toBe(true);
    expect(isStrataError(caught)).toBe(true);
    const error = caught as ManifestError;
    expect(error.code).toBe('E_MANIFEST_INVALID');
    expect(error.issues.map((i) => i.path)).toEqual([
      'routes[0].policy.levels[0]',
      'routes[0].policy.tags[0]',
      'routes[0].policy.ttl',
      'routes[1].match',
      'routes[1].policy.levels',
      'routes[1].policy.ttl',
      'version',
    ]);
    for (const issue of error.issues) expect(error.message).toContain(`${issue.path}: ${issue.message}`);
  });

  it('the error type guards work across realms (they check name and code, not the class)', () => {
    const foreign = Object.assign(new Error('x'), { name: 'ManifestError', code: 'E_MANIFEST_INVALID', issues: [] });
    expect(isManifestError(foreign)).toBe(true);
    expect(isManifestError(new Error('x'))).toBe(false);
    expect(isStrataError({ name: 'StrataError', code: 'E' })).toBe(false);
  });

  describe('issues', () => {
    it.each([null, 42, 'manifest', []])('a non-object manifest (%j)', (json) => {
      expect(manifestIssues(json).length).toBeGreaterThan(0);
    });

    it('missing version and routes', () => {
      const issues = manifestIssues({});
      expectIssue(issues, 'version', /version/);
      expectIssue(issues, 'routes', /routes/);
    });

    it('unknown keys, with a suggestion when one is close', () => {
      const issues = issuesOf([route('/a', { ...valid, tll: 5, colour: 'red' }, { method: ['GET'] })], {
        defualts: {},
      });
      expectIssue(issues, 'routes[0].policy.tll', /did you mean 'ttl'/);
      expectIssue(issues, 'routes[0].policy.colour', /unknown key 'colour'; expected one of ttl, levels/);
      expectIssue(issues, 'routes[0].method', /did you mean 'methods'/);
      expectIssue(issues, 'defualts', /did you mean 'defaults'/);
    });

    it.each([
      [-1, /must not be negative/],
      [Number.NaN, /must be a number of seconds/],
      [1.5, /whole number/],
      ['60', /must be a number of seconds/],
      [2 ** 40, /at most 2147483648/],
      [Number.POSITIVE_INFINITY, /number of seconds|whole number/],
    ])('ttl %s', (ttl, message) => {
      expectIssue(issuesOf([route('/a', { ...valid, ttl })]), 'routes[0].policy.ttl', message);
    });

    it('every duration field is checked the same way', () => {
      const issues = issuesOf([
        route('/a', {
          ttl: 1,
          levels: ['browser', 'cdn', 'server'],
          staleWhileRevalidate: -1,
          staleIfError: 0.5,
          browserTtl: 'x',
          cdnTtl: -2,
          serverTtl: null,
        }),
      ]);
      for (const key of ['staleWhileRevalidate', 'staleIfError', 'browserTtl', 'cdnTtl', 'serverTtl']) {
        expectIssue(issues, `routes[0].policy.${key}`, new RegExp(key));
      }
    });

    it('unknown and duplicate levels', () => {
      const issues = issuesOf([route('/a', { ttl: 1, levels: ['browser', 'edge', 'browser'] })]);
      expectIssue(issues, 'routes[0].policy.levels[1]', /unknown level "edge"/);
      expectIssue(issues, 'routes[0].policy.levels[2]', /listed twice/);
    });

    it('private with the cdn level', () => {
      expectIssue(
        issuesOf([route('/a', { ...fullCache(5), scope: 'private' })]),
        'routes[0].policy.levels',
        /private policy cannot include the 'cdn' level/,
      );
    });

    it('a bad scope and bad booleans', () => {
      const issues = issuesOf([route('/a', { ...valid, scope: 'shared', immutable: 'yes', mustRevalidate: 1 })]);
      expectIssue(issues, 'routes[0].policy.scope', /'public' or 'private'/);
      expectIssue(issues, 'routes[0].policy.immutable', /true or false/);
      expectIssue(issues, 'routes[0].policy.mustRevalidate', /true or false/);
    });

    it('per-level TTLs for levels the policy does not use', () => {
      const issues = issuesOf([route('/a', { ttl: 1, levels: ['server'], browserTtl: 5, cdnTtl: 5 })]);
      expectIssue(issues, 'routes[0].policy.browserTtl', /'browser' is not in levels/);
      expectIssue(issues, 'routes[0].policy.cdnTtl', /'cdn' is not in levels/);
    });

    it('mustRevalidate on a CDN route that does not vary on Authorization', () => {
      const shared = { ttl: 60, levels: ['browser', 'cdn'], mustRevalidate: true };
      expectIssue(issuesOf([route('/a', shared)]), 'routes[0].policy.mustRevalidate', /RFC 9111 §3.5/);
      expect(issuesOf([route('/a', { ...shared, vary: ['Authorization'] })])).toEqual([]);
      expect(issuesOf([route('/a', { ...shared, levels: ['browser'] })])).toEqual([]);
    });

    it('stale windows with mustRevalidate', () => {
      const issues = issuesOf([
        route('/a', { ...valid, mustRevalidate: true, staleWhileRevalidate: 5, staleIfError: 5 }),
      ]);
      expectIssue(issues, 'routes[0].policy.staleWhileRevalidate', /contradicts mustRevalidate/);
      expectIssue(issues, 'routes[0].policy.staleIfError', /contradicts mustRevalidate/);
    });

    it('tag templates naming a param the pattern lacks, and malformed templates', () => {
      const issues = issuesOf([
        route('/users/:id', { ...valid, tags: ['user:{id}', 'user:{uid}', 'bad {id}', 'open:{id', 42] }),
        route('/static/*', { ...valid, tags: ['asset:{path}'] }),
      ]);
      expect(issues.filter((i) => i.path === 'routes[0].policy.tags[0]')).toEqual([]);
      expectIssue(issues, 'routes[0].policy.tags[1]', /names \{uid\}, but '\/users\/:id' has no :uid param/);
      expectIssue(issues, 'routes[0].policy.tags[2]', /spaces/);
      expectIssue(issues, 'routes[0].policy.tags[3]', /unbalanced brace/);
      expectIssue(issues, 'routes[0].policy.tags[4]', /must be a string/);
      expectIssue(issues, 'routes[1].policy.tags[0]', /has no :path param/);
    });

    it('invalid vary header names, *, and duplicates', () => {
      const issues = issuesOf([
        route('/a', { ...valid, vary: ['Accept-Language', 'Bad Header', '*', 'accept-language', ''] }),
      ]);
      expectIssue(issues, 'routes[0].policy.vary[1]', /not a valid header name/);
      expectIssue(issues, 'routes[0].policy.vary[2]', /Vary: \*/);
      expectIssue(issues, 'routes[0].policy.vary[3]', /listed twice/);
      expectIssue(issues, 'routes[0].policy.vary[4]', /not a valid header name/);
    });

    it('unknown, empty and uncacheable method lists', () => {
      const issues = issuesOf([
        route('/a', valid, { methods: ['FETCH'] }),
        route('/b', valid, { methods: [] }),
        route('/c', valid, { methods: ['GET', 'POST', 'DELETE'] }),
        route('/d', noStore(), { methods: ['POST'] }),
      ]);
      expectIssue(issues, 'routes[0].methods[0]', /unknown method "FETCH"/);
      expectIssue(issues, 'routes[1].methods', /must not be empty/);
      expectIssue(issues, 'routes[2].methods', /POST, DELETE responses are never cached/);
      expect(issues.filter((i) => i.path.startsWith('routes[3]'))).toEqual([]);
    });

    it.each([
      ['api/users', /must start with \//],
      ['/a/*/b', /only appear once, at the end/],
      ['/a**', /only appear once, at the end/],
      ['/a//b', /empty path segment/],
      ['/a/:', /not a valid param/],
      ['/a/:1x', /not a valid param/],
      ['/a/:id/:id', /appears twice/],
      ['/a/:id*', /cannot be followed by \*/],
      ['/a b', /percent-encoded/],
      ['/café', /percent-encoded/],
      ['/a?x=1', /path only/],
      ['/a%00', /holds %00/],
      ['/a%FF', /not UTF-8/],
      ['/files/x%00*', /holds %00/],
    ])('bad pattern %j', (match, message) => {
      expectIssue(issuesOf([route(match, valid)]), 'routes[0].match', message);
    });

    it('accepts the pattern forms the matcher supports', () => {
      const patterns = ['/', '/a', '/a/', '/a/:id', '/a/:id/b', '/static/*', '/users*', '/caf%C3%A9', '/a:b@c', '/*'];
      expect(issuesOf(patterns.map((p) => route(p, valid)))).toEqual([]);
    });

    it('duplicate routes', () => {
      const issues = issuesOf([route('/users/:id', valid), route('/users/:uid', valid)]);
      expectIssue(issues, 'routes[1].match', /duplicate of routes\[0\] \('\/users\/:id'\)/);
    });

    it('a percent-encoded spelling of an earlier literal is its duplicate (RFC 3986 §6.2.2)', () => {
      const issues = issuesOf([
        route('/api/me', valid),
        route('/api/m%65', valid),
        route('/caf%c3%a9', valid),
        route('/caf%C3%A9', valid),
      ]);
      expectIssue(issues, 'routes[1].match', /duplicate of routes\[0\]/);
      expectIssue(issues, 'routes[3].match', /duplicate of routes\[2\]/);
    });

    it.each([
      ['/users/*', '/users/:id'],
      ['/users/:id', '/users/me'],
      ['/users*', '/users/:id/posts'],
      ['/users*', '/users-archive*'],
      ['/*', '/anything/at/all'],
      ['/a/:x/*', '/a/b/c*'],
    ])('%s fully shadows a later %s', (earlier, later) => {
      const issues = issuesOf([route(earlier, valid), route(later, valid)]);
      expectIssue(issues, 'routes[1].match', /never matches: routes\[0\]/);
    });

    it.each([
      ['/users/me', '/users/:id'],
      ['/users/:id', '/users/*'],
      ['/users/*', '/users'],
      ['/users/:id', '/users/'],
      ['/users/x*', '/users/*'],
      ['/a/*', '/b/*'],
    ])('%s does not shadow a later %s', (earlier, later) => {
      expect(issuesOf([route(earlier, valid), route(later, valid)])).toEqual([]);
    });

    it('a route for other methods is not shadowed', () => {
      const issues = issuesOf([
        route('/form', valid, { methods: ['GET'] }),
        route('/form', noStore(), { methods: ['POST'] }),
        route('/form', valid),
      ]);
      expect(issues).toEqual([]);
      const shadowed = issuesOf([route('/form', valid), route('/form', valid, { methods: ['GET'] })]);
      expectIssue(shadowed, 'routes[1].match', /never matches/);
    });

    it('reports structural and semantic issues of the same route in one pass', () => {
      const issues = issuesOf([route('nope', { ttl: 1.5, levels: ['cdn'], scope: 'private', vary: ['*'] })]);
      expect(issues.map((i) => i.path)).toEqual([
        'routes[0].match',
        'routes[0].policy.levels',
        'routes[0].policy.ttl',
        'routes[0].policy.vary[0]',
      ]);
    });

    it('lists issues in document order', () => {
      const routes = Array.from({ length: 12 }, (_, i) => route(`/r${i}`, { ...valid, ttl: -i - 1 }));
      expect(issuesOf(routes).map((i) => i.path)).toEqual(routes.map((_, i) => `routes[${i}].policy.ttl`));
    });

    it('a valid manifest has no issues', () => {
      const manifest = defineManifest({
        version: 1,
        routes: [
          { match: '/users/:id', policy: serverCache(600, { tags: ['users', 'user:{id}'], vary: ['accept'] }) },
          { match: '/users*', policy: serverCache(600, { tags: ['users'] }) },
        ],
      });
      expect(manifestIssues(manifest)).toEqual([]);
    });
  });
});
