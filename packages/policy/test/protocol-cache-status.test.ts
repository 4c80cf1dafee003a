import { appendCacheStatus, cacheStatusMember } from '@strata/policy/protocol';
import { describe, expect, it } from 'vitest';

describe('cacheStatusMember (RFC 9211)', () => {
  it('writes hit and fwd as exclusive, hit winning (§2.1, §2.2), Booleans bare (RFC 8941 §3.1.2)', () => {
    expect(cacheStatusMember('strata', { hit: true, fwd: 'stale', ttl: 5 })).toBe('strata; hit; ttl=5');
    expect(cacheStatusMember('strata', { hit: false, fwd: 'uri-miss', stored: true })).toBe(
      'strata; fwd=uri-miss; stored',
    );
    expect(cacheStatusMember('strata', { fwd: 'miss', fwdStatus: 200, stored: true, collapsed: true })).toBe(
      'strata; fwd=miss; fwd-status=200; stored; collapsed',
    );
    expect(cacheStatusMember('strata', {})).toBe('strata');
  });

  it('writes ttl as an Integer, rounded down, negative once stale (§2.4)', () => {
    expect(cacheStatusMember('s', { hit: true, ttl: 41.9 })).toBe('s; hit; ttl=41');
    expect(cacheStatusMember('s', { fwd: 'stale', ttl: -2.5 })).toBe('s; fwd=stale; ttl=-3');
    expect(cacheStatusMember('s', { hit: true, ttl: 0 })).toBe('s; hit; ttl=0');
  });

  it('writes a detail token bare and anything else as a quoted String (§2.8, RFC 8941 §3.3)', () => {
    expect(cacheStatusMember('s', { fwd: 'stale', detail: 'stale-if-error' })).toBe(
      's; fwd=stale; detail=stale-if-error',
    );
    expect(cacheStatusMember('s', { fwd: 'bypass', detail: 'two words' })).toBe('s; fwd=bypass; detail="two words"');
    expect(cacheStatusMember('s', { fwd: 'bypass', detail: '1st' })).toBe('s; fwd=bypass; detail="1st"');
  });
});

describe('appendCacheStatus', () => {
  it('puts the member after the upstream ones: the cache nearest the user comes last (§2)', () => {
    expect(appendCacheStatus('origin; fwd=miss ', 'strata; hit')).toBe('origin; fwd=miss, strata; hit');
    expect(appendCacheStatus(null, 'strata; hit')).toBe('strata; hit');
    expect(appendCacheStatus('  ', 'strata; hit')).toBe('strata; hit');
  });
});
