import { cacheStatusMember as member } from '@strata/policy/protocol';

/**
 * The `strata-sw` member of the Cache-Status field (RFC 9211). The field is a Structured-Field
 * List with one member per cache, the one nearest the user last (§2), so the service worker
 * appends its member after whatever the origin, the server cache and the CDN put there
 * (`appendCacheStatus` from @strata/policy/protocol).
 */

/** RFC 9211 §2.2 `fwd` reasons the service worker uses. */
export type Forward = 'uri-miss' | 'stale' | 'bypass';

/** Why a stale or bypassed response was used; always an sf-token (RFC 8941 §3.3.4). */
export type Detail =
  | 'stale-while-revalidate'
  | 'stale-if-error'
  /** Marked stale by a soft purge, served while one revalidation runs. */
  | 'soft-purge'
  | 'no-user'
  | 'navigation-fallback'
  /** A file of the deploy, stored when the worker was installed (`installPrecache`). */
  | 'precache'
  /** A private answer the server named for another partition (`Strata-Partition`): not stored. */
  | 'partition-mismatch';

/** `hit` and `fwd` are mutually exclusive (§2.1, §2.2), so they are two shapes. */
export type CacheStatus =
  | { hit: true; ttl?: number; detail?: Detail }
  | { fwd: Forward; fwdStatus?: number | undefined; ttl?: number; stored?: boolean; detail?: Detail };

/** The worker's list member: `strata-sw; hit; ttl=42` or `strata-sw; fwd=stale; fwd-status=503; ttl=-3`. */
export const cacheStatusMember = (status: CacheStatus): string => member('strata-sw', status);
