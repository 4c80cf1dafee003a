import { appendCacheStatus } from '@strata/policy/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CacheStatus, cacheStatusMember } from '../src/cache-status.js';

// RFC 9211 §2 over RFC 8941: a member is a token with parameters; Boolean true is a bare key, integers
// have no fraction, tokens start with ALPHA or '*'.
const PARAM = /^(hit|stored|fwd=[a-z-]+|fwd-status=\d{3}|ttl=-?\d+|detail=[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*)$/;

describe('Cache-Status member (RFC 9211)', () => {
  it('formats a hit with its integer ttl', () => {
    expect(cacheStatusMember({ hit: true, ttl: 42 })).toBe('strata-sw; hit; ttl=42');
  });

  it('formats forwards, with fwd-status, a negative ttl once stale, stored and detail', () => {
    expect(cacheStatusMember({ fwd: 'stale', ttl: -3, detail: 'stale-while-revalidate' })).toBe(
      'strata-sw; fwd=stale; ttl=-3; detail=stale-while-revalidate',
    );
    expect(cacheStatusMember({ fwd: 'stale', fwdStatus: 503, ttl: -61, detail: 'stale-if-error' })).toBe(
      'strata-sw; fwd=stale; fwd-status=503; ttl=-61; detail=stale-if-error',
    );
    expect(cacheStatusMember({ fwd: 'uri-miss', fwdStatus: 200, stored: true })).toBe(
      'strata-sw; fwd=uri-miss; fwd-status=200; stored',
    );
    expect(cacheStatusMember({ fwd: 'uri-miss', stored: false })).toBe('strata-sw; fwd=uri-miss');
  });

  it('never writes a Decimal ttl, `hit=true`, or both hit and fwd', () => {
    const status = fc.oneof(
      fc.record({ hit: fc.constant(true as const), ttl: fc.double({ min: -1e6, max: 1e6, noNaN: true }) }),
      fc.record(
        {
          fwd: fc.constantFrom('uri-miss' as const, 'stale' as const, 'bypass' as const),
          fwdStatus: fc.integer({ min: 100, max: 599 }),
          ttl: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
          stored: fc.boolean(),
          detail: fc.constantFrom('stale-while-revalidate' as const, 'stale-if-error' as const, 'no-user' as const),
        },
        { requiredKeys: ['fwd'] },
      ),
    );
    fc.assert(
      fc.property(status, (s: CacheStatus) => {
        const [name, ...params] = cacheStatusMember(s).split('; ');
        expect(name).toBe('strata-sw');
        for (const param of params) expect(param).toMatch(PARAM);
        const keys = params.map((p) => p.split('=')[0]);
        expect(keys.includes('hit') !== keys.includes('fwd')).toBe(true);
        expect(new Set(keys).size).toBe(keys.length);
      }),
    );
  });

  it('appends after the upstream members and keeps them untouched', () => {
    expect(appendCacheStatus(null, 'strata-sw; hit; ttl=1')).toBe('strata-sw; hit; ttl=1');
    expect(appendCacheStatus('  ', 'strata-sw; hit; ttl=1')).toBe('strata-sw; hit; ttl=1');
    expect(appendCacheStatus('origin; fwd=uri-miss, "Example CDN"; hit', 'strata-sw; hit; ttl=1')).toBe(
      'origin; fwd=uri-miss, "Example CDN"; hit, strata-sw; hit; ttl=1',
    );
  });
});
