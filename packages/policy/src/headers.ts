import { levelTtl, storesAt } from './presets.js';
import { tagHeaderValues } from './tags.js';
import type { Policy } from './types.js';

export const DEFAULT_MAX_UNPURGEABLE_AGE = 60;

export interface HeaderOptions {
  /** Expanded tags of this response (from `matchRoute`). */
  tags?: readonly string[];
  /** The manifest's `defaults.maxUnpurgeableAge`. Default 60 s. */
  maxUnpurgeableAge?: number;
}

// RFC 9111 §1.2.2: a delta-seconds value that overflows is sent as 2147483648.
const MAX_DELTA_SECONDS = 2_147_483_648;
const seconds = (n: number): number => Math.min(Math.max(0, Math.floor(n)), MAX_DELTA_SECONDS);

interface Freshness {
  maxAge: number;
  swr: number;
  sie: number;
}

/** Fresh and stale windows of one level, with the stale windows dropped where they are forbidden. */
function freshness(policy: Policy, ttl: number, cap: number | undefined): Freshness {
  // RFC 9111 §5.2.2.2: must-revalidate forbids serving stale, so no stale extensions at all.
  let swr = policy.mustRevalidate ? 0 : seconds(policy.staleWhileRevalidate ?? 0);
  const sie = policy.mustRevalidate ? 0 : seconds(policy.staleIfError ?? 0);
  let maxAge = seconds(ttl);
  if (cap !== undefined) {
    // A layer no purge reaches may serve the response for max-age plus its SWR window without
    // asking the origin; both together stay within the cap. stale-if-error only applies while the
    // origin fails, when a stale answer beats none.
    maxAge = Math.min(maxAge, cap);
    swr = Math.min(swr, cap - maxAge);
  }
  return { maxAge, swr, sie };
}

function staleDirectives(f: Freshness): string[] {
  const out: string[] = [];
  if (f.swr > 0) out.push(`stale-while-revalidate=${f.swr}`);
  if (f.sie > 0) out.push(`stale-if-error=${f.sie}`);
  return out;
}

/**
 * The response headers a policy requires, with lower-case names:
 * - `cache-control`: the browser's view (and any generic shared cache's);
 * - `cdn-cache-control` (RFC 9213) and `surrogate-control` (Edge-Arch, Fastly): the CDN's view,
 *   with the same meaning in both;
 * - `surrogate-key` and `cache-tag`: the tags, for CDN purge by tag (public CDN policies only);
 * - `vary`.
 */
export function headersFor(policy: Policy, options: HeaderOptions = {}): Record<string, string> {
  const headers: Record<string, string> = {};
  const cap = seconds(options.maxUnpurgeableAge ?? DEFAULT_MAX_UNPURGEABLE_AGE);
  const tags = options.tags ?? [];
  const isPrivate = policy.scope === 'private';
  const cdn = storesAt(policy, 'cdn') && !isPrivate;

  // RFC 9111 §3.5: a shared cache reuses a response to a request with Authorization only when it
  // says `public` (or must-revalidate, s-maxage). Strata says so only when the policy varies on
  // Authorization, so one user's answer is never handed to another.
  const shareAuthorized = cdn && (policy.vary ?? []).some((name) => name.toLowerCase() === 'authorization');

  // Browser view. Without the CDN level, `private` keeps every shared cache out (RFC 9111 §5.2.2.7).
  // A tagged response is capped: purges reach the service worker but never the HTTP cache.
  if (storesAt(policy, 'browser')) {
    const f = freshness(policy, levelTtl(policy, 'browser'), tags.length > 0 ? cap : undefined);
    const cc = [`max-age=${f.maxAge}`, ...staleDirectives(f)];
    if (!cdn) cc.unshift('private');
    else if (shareAuthorized) cc.unshift('public');
    if (policy.immutable) cc.push('immutable');
    if (policy.mustRevalidate) cc.push('must-revalidate');
    headers['cache-control'] = cc.join(', ');
  } else {
    headers['cache-control'] = isPrivate ? 'private, no-store' : 'no-store';
  }

  if (cdn) {
    const tagValues = tagHeaderValues(tags);
    // Tags the CDN cannot be told about make the object unpurgeable there: cap it like the browser.
    const f = freshness(policy, levelTtl(policy, 'cdn'), tagValues.dropped.length > 0 ? cap : undefined);
    const directives = [`max-age=${f.maxAge}`, ...staleDirectives(f)];
    if (shareAuthorized) directives.unshift('public');
    if (policy.mustRevalidate) directives.push('must-revalidate');
    // RFC 9213 §2.1: a Structured-Field Dictionary; these members are all integers or booleans.
    headers['cdn-cache-control'] = directives.join(', ');
    headers['surrogate-control'] = directives.join(', ');
    if (tagValues.surrogateKey) {
      headers['surrogate-key'] = tagValues.surrogateKey;
      headers['cache-tag'] = tagValues.cacheTag;
    }
  } else {
    // RFC 9213 §2.2: a CDN that reads a targeted field ignores Cache-Control, `private` included,
    // so the targeted fields must forbid storing themselves.
    headers['cdn-cache-control'] = isPrivate ? 'private, no-store' : 'no-store';
    headers['surrogate-control'] = 'no-store';
  }

  if (policy.vary && policy.vary.length > 0) headers.vary = policy.vary.map((h) => h.toLowerCase()).join(', ');
  return headers;
}
