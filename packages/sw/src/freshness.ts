import type { Windows } from '@strata/policy';

/**
 * Where an entry stands in the browser level's windows (`windowsFor(policy, 'browser')`, the one
 * definition every layer reads, in seconds). Ages are in milliseconds, counted from when the
 * worker stored the entry, not from `Date`.
 */
export type Freshness = 'fresh' | 'stale-while-revalidate' | 'stale';

/** Where an entry of age `age` ms stands. */
export function freshness(age: number, w: Windows): Freshness {
  if (age < w.ttl * 1000) return 'fresh';
  return age < (w.ttl + w.swr) * 1000 ? 'stale-while-revalidate' : 'stale';
}

/** Whether a stale entry may answer when the origin fails or answers 500, 502, 503 or 504 (RFC 5861 §4). */
export function servesOnError(age: number, w: Windows): boolean {
  return age < (w.ttl + w.sie) * 1000;
}

/** How long an entry can be of any use, in ms: after this, no window can serve it and expiration drops it. */
export function lifetime(w: Windows): number {
  return (w.ttl + Math.max(w.swr, w.sie)) * 1000;
}

/** RFC 9211 §2.4 `ttl`: whole seconds of freshness left, negative once stale. */
export function ttlLeft(age: number, w: Windows): number {
  return Math.floor(w.ttl - age / 1000);
}
