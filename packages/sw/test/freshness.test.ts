import { browserCache, cdnCache, type Policy, windowsFor } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { freshness, lifetime, servesOnError, ttlLeft } from '../src/freshness.js';

const windowsOf = (policy: Policy) => windowsFor(policy, 'browser');

describe('freshness windows of the browser level', () => {
  it('uses browserTtl over ttl', () => {
    expect(windowsOf(cdnCache(3600, { browserTtl: 60, staleWhileRevalidate: 30, staleIfError: 600 }))).toEqual({
      ttl: 60,
      swr: 30,
      sie: 600,
    });
  });

  it('mustRevalidate removes both stale windows (RFC 9111 §5.2.2.2)', () => {
    const w = windowsOf({ ...browserCache(60, { staleWhileRevalidate: 30, staleIfError: 600 }), mustRevalidate: true });
    expect(w).toEqual({ ttl: 60, swr: 0, sie: 0 });
    expect(freshness(60_000, w)).toBe('stale');
    expect(servesOnError(60_001, w)).toBe(false);
  });

  it('classifies an age: fresh before the TTL, then stale-while-revalidate, then stale', () => {
    const w = windowsOf(browserCache(60, { staleWhileRevalidate: 30, staleIfError: 600 }));
    expect(freshness(0, w)).toBe('fresh');
    expect(freshness(59_999, w)).toBe('fresh');
    expect(freshness(60_000, w)).toBe('stale-while-revalidate');
    expect(freshness(89_999, w)).toBe('stale-while-revalidate');
    expect(freshness(90_000, w)).toBe('stale');
    expect(servesOnError(659_999, w)).toBe(true);
    expect(servesOnError(660_000, w)).toBe(false);
    expect(lifetime(w)).toBe(660_000);
  });

  it('gives Cache-Status ttl in whole seconds, negative once stale', () => {
    const w = windowsOf(browserCache(60));
    expect(ttlLeft(0, w)).toBe(60);
    expect(ttlLeft(500, w)).toBe(59);
    expect(ttlLeft(60_500, w)).toBe(-1);
    expect(ttlLeft(63_000, w)).toBe(-3);
  });
});
