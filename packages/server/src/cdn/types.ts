/** What a CDN is asked to drop. */
export interface CdnPurge {
  /** Tags as `@strata/policy` emits them in `surrogate-key` / `cache-tag` (validated: no spaces or commas). */
  tags: string[];
  /** Absolute URLs. */
  urls: string[];
  /** Drop everything (clear-all), where the CDN supports it; `tags` and `urls` are then not sent. */
  all?: boolean;
  /**
   * Mark stale rather than drop, where the CDN can (Varnish `xkey.softpurge`, Fastly
   * `Fastly-Soft-Purge`); a CDN without soft purges (Cloudflare) drops them.
   */
  soft?: boolean;
}

/** The result of one purge at one CDN. */
export interface PurgerReport {
  purger: string;
  ok: boolean;
  /** Attempts made, the first included. */
  attempts: number;
  /** Objects the CDN reported dropped, when it reports it (Varnish xkey does). */
  purged?: number;
  /** The last attempt's error message, when `ok` is false. Never holds a credential. */
  error?: string;
}

/**
 * A CDN (or reverse proxy) that can drop cached objects by tag. Implementations only make the
 * requests; retries, backoff and reporting live in `withRetry`, so a purger failure never
 * reaches the caller's request.
 */
export interface Purger {
  readonly name: string;
  /**
   * Sends the purge; resolves to objects purged, when known. Rejects on failure, preferably with
   * a `PurgeError` (`retry.ts`): its `retryable` and `retryAfterMs` tell the wrapper whether and
   * when to try again. Purging is idempotent, so a retry may resend batches that had succeeded.
   */
  purge(request: CdnPurge): Promise<number | undefined>;
}
