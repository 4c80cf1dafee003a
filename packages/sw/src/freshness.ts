import { levelTtl, type Policy } from '@strata/policy';

/** The browser level's windows of one policy, in milliseconds. */
export interface Windows {
  ttl: number;
  /** Stale-while-revalidate window after the TTL (RFC 5861 §3). */
  swr: number;
  /** Stale-if-error window after the TTL (RFC 5861 §4). */
  sie: number;
}

export type Freshness = 'fresh' | 'stale-while-revalidate' | 'stale';

export function windowsOf(policy: Policy): Windows {
  // RFC 9111 §5.2.2.2: must-revalidate forbids serving a stale response, on error too.
  const stale = policy.mustRevalidate ? 0 : 1;
  return {
    ttl: levelTtl(policy, 'browser') * 1000,
    swr: stale * (policy.staleWhileRevalidate ?? 0) * 1000,
    sie: stale * (policy.staleIfError ?? 0) * 1000,
  };
}

/** Where an entry of age `age` ms stands. Age counts from when the worker stored it, not from `Date`. */
export function freshness(age: number, w: Windows): Freshness {
  if (age < w.ttl) return 'fresh';
  return age < w.ttl + w.swr ? 'stale-while-revalidate' : 'stale';
}

/** Whether a stale entry may answer when the origin fails or answers 500, 502, 503 or 504 (RFC 5861 §4). */
export function servesOnError(age: number, w: Windows): boolean {
  return age < w.ttl + w.sie;
}

/** How long an entry can be of any use: after this, no window can serve it and expiration drops it. */
export function lifetime(w: Windows): number {
  return w.ttl + Math.max(w.swr, w.sie);
}

/** RFC 9211 §2.4 `ttl`: whole seconds of freshness left, negative once stale. */
export function ttlLeft(age: number, w: Windows): number {
  return Math.floor((w.ttl - age) / 1000);
}
