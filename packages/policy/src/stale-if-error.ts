/**
 * RFC 5861 §4: an error, for stale-if-error, is "any situation that would result in a 500, 502,
 * 503, or 504 HTTP response status code being returned", plus a failed connection (which has no
 * status: callers treat a thrown fetch or origin the same way). Other 5xx, such as 501 Not
 * Implemented or 505, are answers, not outages: they pass through.
 */
export const STALE_IF_ERROR_STATUSES: readonly number[] = Object.freeze([500, 502, 503, 504]);

/** Whether an origin answer with `status` may be replaced by a stale copy within stale-if-error (RFC 5861 §4). */
export function servesStaleOnError(status: number): boolean {
  return STALE_IF_ERROR_STATUSES.includes(status);
}
