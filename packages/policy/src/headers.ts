import { storesAt } from './presets.js';
import { tagHeaderValues } from './tags.js';
import type { Policy } from './types.js';
import { boundWindows, deltaSeconds as seconds, type Windows, windowsFor } from './windows.js';

export const DEFAULT_MAX_UNPURGEABLE_AGE = 60;
/** Request headers that carry a user's credentials, and so select a private answer's variant. */
export const DEFAULT_CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie'];
/** Seconds a cache may keep a 4xx/5xx answer it is allowed to store (404, 410…), at every level. */
export const DEFAULT_NEGATIVE_TTL = 10;

export interface HeaderOptions {
  /** Expanded tags of this response (from `matchRoute`). */
  tags?: readonly string[];
  /** The manifest's `defaults.maxUnpurgeableAge`. Default 60 s. */
  maxUnpurgeableAge?: number;
  /** The manifest's `defaults.credentialHeaders`: every private answer varies on them. Default Authorization, Cookie. */
  credentialHeaders?: readonly string[];
  /** The response's status: 400 and above get `negativeTtl` at most, and never `immutable`. Default 200. */
  status?: number;
  /** The manifest's `defaults.negativeTtl`. Default 10 s. */
  negativeTtl?: number;
}

/** The `negativeTtl` bound for a response of `status`: undefined below 400, where the policy applies as is. */
export function negativeBound(options: Pick<HeaderOptions, 'status' | 'negativeTtl'>): number | undefined {
  return (options.status ?? 200) >= 400 ? seconds(options.negativeTtl ?? DEFAULT_NEGATIVE_TTL) : undefined;
}

/**
 * The Vary names of a policy's answers: its `vary`, and for a private policy every credential
 * header, which selects the user (the partition) whether or not the policy lists it.
 */
export function varyNamesFor(
  policy: Policy,
  credentialHeaders: readonly string[] = DEFAULT_CREDENTIAL_HEADERS,
): string[] {
  const names = (policy.vary ?? []).map((h) => h.toLowerCase());
  if (policy.scope === 'private') {
    for (const name of credentialHeaders) if (!names.includes(name.toLowerCase())) names.push(name.toLowerCase());
  }
  return names;
}

function staleDirectives(f: Windows): string[] {
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
  // A 404 or 410 can turn into a 200 at any moment: a short life everywhere, never immutable.
  const negative = negativeBound(options);
  const vary = varyNamesFor(policy, options.credentialHeaders);

  // RFC 9111 §3.5: a shared cache reuses a response to a request with Authorization only when it
  // says `public` (or must-revalidate, s-maxage). Strata says so only when the policy varies on
  // Authorization, so one user's answer is never handed to another.
  const shareAuthorized = cdn && (policy.vary ?? []).some((name) => name.toLowerCase() === 'authorization');

  // Browser view. Without the CDN level, `private` keeps every shared cache out (RFC 9111 §5.2.2.7).
  // A tagged response is capped: purges reach the service worker but never the HTTP cache.
  if (storesAt(policy, 'browser')) {
    const f = boundWindows(windowsFor(policy, 'browser'), { cap: tags.length > 0 ? cap : undefined, negative });
    const cc = [`max-age=${f.ttl}`, ...staleDirectives(f)];
    if (!cdn) cc.unshift('private');
    else if (shareAuthorized) cc.unshift('public');
    // RFC 9111 §4.1: the browser's HTTP cache is shared by every user of that browser. A private
    // answer varies on the credential headers (below); with none configured, Vary cannot say who
    // the answer is for, so the browser must ask the origin before each reuse (§5.2.2.4).
    const credentials = options.credentialHeaders ?? DEFAULT_CREDENTIAL_HEADERS;
    if (isPrivate && credentials.length === 0) cc.push('no-cache');
    if (policy.immutable && negative === undefined) cc.push('immutable');
    if (policy.mustRevalidate) cc.push('must-revalidate');
    headers['cache-control'] = cc.join(', ');
  } else {
    headers['cache-control'] = isPrivate ? 'private, no-store' : 'no-store';
  }

  if (cdn) {
    const tagValues = tagHeaderValues(tags);
    // Tags the CDN cannot be told about make the object unpurgeable there: cap it like the browser.
    const f = boundWindows(windowsFor(policy, 'cdn'), {
      cap: tagValues.dropped.length > 0 ? cap : undefined,
      negative,
    });
    const directives = [`max-age=${f.ttl}`, ...staleDirectives(f)];
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

  if (vary.length > 0) headers.vary = vary.join(', ');
  return headers;
}
