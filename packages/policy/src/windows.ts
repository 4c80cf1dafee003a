import { levelTtl } from './presets.js';
import type { Level, Policy } from './types.js';

// RFC 9111 §1.2.2: a delta-seconds value that overflows is sent as 2147483648.
const MAX_DELTA_SECONDS = 2_147_483_648;
/** Whole seconds, from 0 to the largest delta-seconds (RFC 9111 §1.2.2). */
export const deltaSeconds = (n: number): number => Math.min(Math.max(0, Math.floor(n)), MAX_DELTA_SECONDS);

/** How long a level may use a stored response, in whole seconds. */
export interface Windows {
  /** Fresh for this long (the level's TTL). */
  ttl: number;
  /** Then served stale while one revalidation runs, for this long (RFC 5861 §3). */
  swr: number;
  /** Then served stale when the origin fails, for this long after the TTL (RFC 5861 §4). */
  sie: number;
}

export interface WindowBounds {
  /**
   * Seconds a layer no purge reaches may serve a response without asking the origin: the TTL
   * and the stale-while-revalidate window together stay within it. stale-if-error only applies
   * while the origin fails, when a stale answer beats none, so it is not capped.
   */
  cap?: number | undefined;
  /** Seconds a 4xx/5xx answer may live (negativeTtl): bounds the TTL and both stale windows. */
  negative?: number | undefined;
}

/**
 * The fresh and stale windows of `policy` at `level`, the stale ones dropped where they are
 * forbidden: the headers sent to the browser and the CDN (bounded by `boundWindows`) and the
 * server's stored entries read them here.
 */
export function windowsFor(policy: Policy, level: Level): Windows {
  // RFC 9111 §5.2.2.2: must-revalidate forbids serving stale, so no stale extensions at all.
  const stale = policy.mustRevalidate ? 0 : 1;
  return {
    ttl: deltaSeconds(levelTtl(policy, level)),
    swr: stale * deltaSeconds(policy.staleWhileRevalidate ?? 0),
    sie: stale * deltaSeconds(policy.staleIfError ?? 0),
  };
}

/** `windows` within `bounds`: the unpurgeable-age cap and a negative answer's lifetime. */
export function boundWindows(windows: Windows, bounds: WindowBounds): Windows {
  let { ttl, swr, sie } = windows;
  const { cap, negative } = bounds;
  if (cap !== undefined) {
    ttl = Math.min(ttl, cap);
    swr = Math.min(swr, cap - ttl);
  }
  if (negative !== undefined) {
    ttl = Math.min(ttl, negative);
    swr = Math.min(swr, negative - ttl);
    sie = Math.min(sie, negative - ttl);
  }
  return { ttl, swr, sie };
}
