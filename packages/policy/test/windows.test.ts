import { browserCache, cdnCache, fullCache } from '@strata/policy';
import { boundWindows, storesAt, windowsFor } from '@strata/policy/protocol';
import { describe, expect, it } from 'vitest';

describe('windowsFor', () => {
  it("reads each level's TTL and the policy's stale windows, in seconds", () => {
    const policy = cdnCache(3600, { browserTtl: 60, staleWhileRevalidate: 30, staleIfError: 600 });
    expect(windowsFor(policy, 'browser')).toEqual({ ttl: 60, swr: 30, sie: 600 });
    expect(windowsFor(policy, 'cdn')).toEqual({ ttl: 3600, swr: 30, sie: 600 });
  });

  it('drops both stale windows under must-revalidate (RFC 9111 §5.2.2.2)', () => {
    const policy = { ...fullCache(60, { staleWhileRevalidate: 30, staleIfError: 600 }), mustRevalidate: true };
    expect(windowsFor(policy, 'server')).toEqual({ ttl: 60, swr: 0, sie: 0 });
  });

  it('writes whole delta-seconds, at most 2147483648 (RFC 9111 §1.2.2)', () => {
    expect(windowsFor(browserCache(1e12, { staleWhileRevalidate: 1.9 }), 'browser')).toEqual({
      ttl: 2_147_483_648,
      swr: 1,
      sie: 0,
    });
  });
});

describe('boundWindows', () => {
  const windows = { ttl: 600, swr: 300, sie: 900 };

  it('keeps TTL and stale-while-revalidate within the cap, not stale-if-error', () => {
    expect(boundWindows(windows, { cap: 700 })).toEqual({ ttl: 600, swr: 100, sie: 900 });
    expect(boundWindows(windows, { cap: 60 })).toEqual({ ttl: 60, swr: 0, sie: 900 });
  });

  it("fits a negative answer's whole life, stale windows included, in its bound", () => {
    expect(boundWindows(windows, { negative: 10 })).toEqual({ ttl: 10, swr: 0, sie: 0 });
    expect(boundWindows({ ttl: 5, swr: 30, sie: 30 }, { negative: 10 })).toEqual({ ttl: 5, swr: 5, sie: 5 });
  });

  it('changes nothing without bounds', () => {
    expect(boundWindows(windows, {})).toEqual(windows);
  });
});

describe('storesAt', () => {
  it('is true exactly for the levels the policy lists', () => {
    const policy = cdnCache(60);
    expect(['browser', 'cdn', 'server'].filter((level) => storesAt(policy, level as 'cdn'))).toEqual(policy.levels);
  });
});
