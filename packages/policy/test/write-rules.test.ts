import { defineManifest, fullCache, isManifestError, type ManifestInput, matchRoute, noStore } from '@strata/policy';
import { manifestIssues, manifestSchema, parseManifest } from '@strata/policy/validate';
import { describe, expect, it } from 'vitest';
import { DEFAULTS_KEYS, MANIFEST_KEYS, POLICY_KEYS, ROUTE_KEYS } from '../src/keys.js';

const routes: ManifestInput['routes'] = [
  { match: '/api/users/:id', policy: fullCache(600, { tags: ['user:{id}'] }) },
  {
    match: '/api/users/:id',
    methods: ['PUT', 'DELETE'],
    policy: noStore(),
    invalidates: ['user:{id}', 'users', 'users'],
  },
];

describe('write rules', () => {
  it('are kept by defineManifest (each template once) and survive parseManifest and JSON', () => {
    const manifest = defineManifest({ version: 1, routes });
    expect(manifest.routes[1]?.invalidates).toEqual(['user:{id}', 'users']);
    expect(manifest.routes[0]).not.toHaveProperty('invalidates');
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
  });

  it('expand over the matched route’s params, encoded as read tags are', () => {
    const manifest = defineManifest({ version: 1, routes });
    expect(matchRoute(manifest, '/api/users/42', 'PUT')?.invalidates).toEqual(['user:42', 'users']);
    expect(matchRoute(manifest, '/api/users/a%20b', 'DELETE')?.invalidates).toEqual(['user:a%20b', 'users']);
    expect(matchRoute(manifest, '/api/users/42', 'GET')?.invalidates).toEqual([]);
    // The same value gives the same tag on the read route: the rule reaches what the read stored.
    expect(matchRoute(manifest, '/api/users/a%20b', 'GET')?.tags).toEqual(['user:a%20b']);
  });

  it('are validated like read tags: params the pattern lacks, bad templates, no unsafe method', () => {
    const issues = manifestIssues({
      version: 1,
      routes: [
        { match: '/a/:id', methods: ['POST'], policy: noStore(), invalidates: ['a:{id}', 'b:{nope}', 'bad tag', 7] },
        { match: '/b', policy: noStore(), invalidates: ['b'] },
        { match: '/c', methods: ['GET', 'OPTIONS'], policy: noStore(), invalidates: ['c'] },
      ],
    });
    expect(issues).toEqual([
      { path: 'routes[0].invalidates[1]', message: "tag 'b:{nope}' names {nope}, but '/a/:id' has no :nope param" },
      { path: 'routes[0].invalidates[2]', message: expect.stringContaining('printable ASCII without spaces') },
      { path: 'routes[0].invalidates[3]', message: 'a tag template must be a string' },
      { path: 'routes[1].invalidates', message: expect.stringContaining('write rules apply to unsafe methods') },
      { path: 'routes[2].invalidates', message: expect.stringContaining('write rules apply to unsafe methods') },
    ]);
  });
});

describe('defineManifest reports unknown keys instead of dropping them', () => {
  it('a misspelt write rule in a JavaScript manifest throws a ManifestError naming it', () => {
    const input = {
      version: 1,
      routes: [{ match: '/a/:id', methods: ['PUT'], policy: noStore(), invalidate: ['a:{id}'] }],
    } as unknown as ManifestInput;
    let thrown: unknown;
    try {
      defineManifest(input);
    } catch (error) {
      thrown = error;
    }
    expect(isManifestError(thrown)).toBe(true);
    const issues = isManifestError(thrown) ? thrown.issues : [];
    expect(issues).toEqual([
      { path: 'routes[0].invalidate', message: "unknown key 'invalidate' (did you mean 'invalidates'?)" },
    ]);
    // The same words parseManifest uses for the same mistake.
    expect(manifestIssues(input)).toContainEqual(issues[0]);
  });

  it('at every level: the manifest, defaults, a route and a policy', () => {
    const input = {
      version: 1,
      defualts: {},
      defaults: { negativeTTL: 5 },
      routes: [{ match: '/a', policy: { ttl: 1, levels: [], colour: 'red' } }],
    } as unknown as ManifestInput;
    expect(() => defineManifest(input)).toThrow(
      expect.objectContaining({
        code: 'E_MANIFEST_INVALID',
        issues: [
          { path: 'defualts', message: "unknown key 'defualts' (did you mean 'defaults'?)" },
          { path: 'defaults.negativeTTL', message: "unknown key 'negativeTTL' (did you mean 'negativeTtl'?)" },
          {
            path: 'routes[0].policy.colour',
            message: expect.stringMatching(/^unknown key 'colour'; expected one of ttl/),
          },
        ],
      }),
    );
  });

  it('knows the keys the schema knows', () => {
    const { shape } = manifestSchema;
    expect([...MANIFEST_KEYS].sort()).toEqual(Object.keys(shape).sort());
    expect([...DEFAULTS_KEYS].sort()).toEqual(Object.keys(shape.defaults.unwrap().shape).sort());
    const route = shape.routes.element.shape;
    expect([...ROUTE_KEYS].sort()).toEqual(Object.keys(route).sort());
    expect([...POLICY_KEYS].sort()).toEqual(Object.keys(route.policy.shape).sort());
  });
});
