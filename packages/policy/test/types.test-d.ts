// Type-level checks of the public API, checked by `npm run typecheck` (tsc -p tsconfig.test.json).
import {
  browserCache,
  defineManifest,
  headersFor,
  type Level,
  type Manifest,
  matchRoute,
  type Policy,
  type RouteMatch,
  serverCache,
} from '@strata/policy';
import { expectTypeOf } from 'vitest';

expectTypeOf(browserCache()).toEqualTypeOf<Policy>();
expectTypeOf<Policy['levels'][number]>().toEqualTypeOf<Level>();
expectTypeOf(headersFor(serverCache())).toEqualTypeOf<Record<string, string>>();

const manifest = defineManifest({ version: 1, routes: [{ match: '/a', policy: serverCache(60) }] });
expectTypeOf(manifest).toEqualTypeOf<Manifest>();
expectTypeOf(matchRoute(manifest, '/a')).toEqualTypeOf<RouteMatch | undefined>();

// @ts-expect-error presets take durations as numbers of seconds, never strings
browserCache('5 minutes');
// @ts-expect-error the levels of a preset are fixed
serverCache(60, { levels: ['cdn'] });
// @ts-expect-error unknown levels do not type-check
defineManifest({ version: 1, routes: [{ match: '/a', policy: { ttl: 1, levels: ['edge'] } }] });
// @ts-expect-error unknown methods do not type-check
defineManifest({ version: 1, routes: [{ match: '/a', methods: ['FETCH'], policy: serverCache() }] });
// @ts-expect-error scope is a union, not any string
browserCache(60, { scope: 'shared' });
