import { STALE_IF_ERROR_STATUSES, servesStaleOnError } from '@strata/policy';
import { describe, expect, it } from 'vitest';

describe('servesStaleOnError (RFC 5861 §4)', () => {
  it('covers 500, 502, 503 and 504, and no other status from 100 to 599', () => {
    const statuses = Array.from({ length: 500 }, (_, i) => 100 + i);
    expect(statuses.filter(servesStaleOnError)).toEqual([500, 502, 503, 504]);
    expect(STALE_IF_ERROR_STATUSES).toEqual([500, 502, 503, 504]);
  });

  it('passes 501 and 505 through: they are answers, not outages', () => {
    expect(servesStaleOnError(501)).toBe(false);
    expect(servesStaleOnError(505)).toBe(false);
  });

  it('its status list cannot be changed by a caller', () => {
    expect(() => (STALE_IF_ERROR_STATUSES as number[]).push(501)).toThrow(TypeError);
    expect(servesStaleOnError(501)).toBe(false);
  });
});
