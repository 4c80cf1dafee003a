import {
  browserCache,
  cdnCache,
  defineManifest,
  fullCache,
  levelTtl,
  noStore,
  serverCache,
  storesAt,
} from '@strata/policy';
import { parseManifest } from '@strata/policy/validate';
import { describe, expect, it } from 'vitest';

describe('presets', () => {
  it.each([
    ['browserCache', browserCache(), 300, ['browser']],
    ['cdnCache', cdnCache(), 3600, ['browser', 'cdn']],
    ['serverCache', serverCache(), 600, ['browser', 'server']],
    ['fullCache', fullCache(), 1800, ['browser', 'cdn', 'server']],
  ] as const)('%s defaults to its documented TTL and levels', (_name, policy, ttl, levels) => {
    expect(policy.ttl).toBe(ttl);
    expect([...policy.levels].sort()).toEqual([...levels].sort());
  });

  it('takes a TTL and options', () => {
    const policy = fullCache(90, { tags: ['users'], staleWhileRevalidate: 30, cdnTtl: 600, scope: 'public' });
    expect(policy).toEqual({
      ttl: 90,
      levels: ['browser', 'cdn', 'server'],
      tags: ['users'],
      staleWhileRevalidate: 30,
      cdnTtl: 600,
      scope: 'public',
    });
  });

  it('options cannot override the levels or the TTL of a preset', () => {
    // A cast, because the types already forbid it; the preset must still win at run time.
    const policy = browserCache(10, { levels: ['cdn'], ttl: 99 } as never);
    expect(policy.levels).toEqual(['browser']);
    expect(policy.ttl).toBe(10);
  });

  it('noStore stores nowhere', () => {
    const policy = noStore();
    for (const level of ['browser', 'cdn', 'server'] as const) expect(storesAt(policy, level)).toBe(false);
  });

  it('levelTtl applies the per-level overrides', () => {
    const policy = fullCache(100, { browserTtl: 10, cdnTtl: 1000 });
    expect(levelTtl(policy, 'browser')).toBe(10);
    expect(levelTtl(policy, 'cdn')).toBe(1000);
    expect(levelTtl(policy, 'server')).toBe(100);
  });

  it('every preset with every option passes validation', () => {
    const opts = { tags: ['t'], vary: ['accept-language'], staleWhileRevalidate: 5, staleIfError: 50, immutable: true };
    const manifest = defineManifest({
      version: 'v1',
      routes: [
        { match: '/a', policy: browserCache(1, { ...opts, browserTtl: 2 }) },
        { match: '/b', policy: cdnCache(1, { ...opts, cdnTtl: 2 }) },
        { match: '/c', policy: serverCache(1, { ...opts, serverTtl: 2 }) },
        { match: '/d', policy: fullCache(1, { ...opts, mustRevalidate: false }) },
        { match: '/e', policy: browserCache(1, { scope: 'private', mustRevalidate: true }) },
        { match: '/f', policy: noStore() },
      ],
    });
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
  });
});
