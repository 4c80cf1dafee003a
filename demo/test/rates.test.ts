import { describe, expect, it } from 'vitest';
import { keepWindow, type RateSample, rateBetween } from '../src/admin/rates.js';

const totals = (hit: number, miss = 0, stale = 0, bypass = 0, fallback = 0, collapsed = 0) => ({
  hit,
  miss,
  stale,
  bypass,
  'error-fallback': fallback,
  collapsed,
  origin: miss + bypass,
});

describe('rateBetween', () => {
  it('divides the counter deltas by the seconds between readings', () => {
    const sample = rateBetween({ at: 10_000, totals: totals(10, 4, 1) }, { at: 12_000, totals: totals(20, 8, 3) });
    expect(sample).toEqual({ time: 12, hits: 5, misses: 2, stale: 1 });
  });

  it('counts bypasses and collapsed reads as misses and stale-if-error as stale', () => {
    const sample = rateBetween({ at: 0, totals: totals(0) }, { at: 1000, totals: totals(0, 1, 1, 2, 3, 4) });
    expect(sample).toMatchObject({ misses: 7, stale: 4 });
  });

  it('gives nothing when no time passed or the counters restarted', () => {
    expect(rateBetween({ at: 5000, totals: totals(1) }, { at: 5000, totals: totals(2) })).toBeUndefined();
    expect(rateBetween({ at: 0, totals: totals(50) }, { at: 1000, totals: totals(3) })).toBeUndefined();
  });
});

describe('keepWindow', () => {
  const at = (time: number): RateSample => ({ time, hits: 0, misses: 0, stale: 0 });

  it('drops samples older than the window', () => {
    const kept = keepWindow([at(1), at(50), at(100)], at(121), 120);
    expect(kept.map((s) => s.time)).toEqual([50, 100, 121]);
  });
});
