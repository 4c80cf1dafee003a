import type { Counters } from '../types.js';

/** The server cache's counters at one moment (ms since epoch). */
export interface Reading {
  at: number;
  totals: Counters;
}

/** Answers per second between two readings. */
export interface RateSample {
  /** Seconds since epoch, the chart's x. */
  time: number;
  hits: number;
  /** Misses, collapsed reads and bypasses: all waited for the origin. */
  misses: number;
  /** Stale answers, including stale-if-error fallbacks. */
  stale: number;
}

/**
 * The rates between two readings, or undefined when there is none to tell: no time passed, or a
 * counter went down (the server restarted and counts from zero again).
 */
export function rateBetween(previous: Reading, next: Reading): RateSample | undefined {
  const seconds = (next.at - previous.at) / 1000;
  if (seconds <= 0) return undefined;
  const delta = (key: keyof Counters) => next.totals[key] - previous.totals[key];
  const keys: (keyof Counters)[] = ['hit', 'miss', 'stale', 'bypass', 'error-fallback', 'collapsed'];
  if (keys.some((key) => delta(key) < 0)) return undefined;
  return {
    time: next.at / 1000,
    hits: delta('hit') / seconds,
    misses: (delta('miss') + delta('collapsed') + delta('bypass')) / seconds,
    stale: (delta('stale') + delta('error-fallback')) / seconds,
  };
}

/** The samples with `sample` added, keeping only the last `windowSeconds`. */
export function keepWindow(samples: readonly RateSample[], sample: RateSample, windowSeconds: number): RateSample[] {
  return [...samples, sample].filter((s) => s.time > sample.time - windowSeconds);
}
