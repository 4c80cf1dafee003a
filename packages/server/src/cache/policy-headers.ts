import { headersFor, negativeBound, type Policy, type RouteMatch, storesAt, varyNamesFor } from '@strata/policy';

/** Statuses the server cache stores, and that get the policy's headers (RFC 9110 §15.1 heuristically cacheable). */
export const DEFAULT_CACHEABLE_STATUSES: readonly number[] = [200, 203, 204, 300, 301, 404, 410];

/** What a response no cache may keep carries at every level. */
export const NO_STORE: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'cdn-cache-control': 'no-store',
  'surrogate-control': 'no-store',
};

export interface HeaderContext {
  match: RouteMatch;
  maxUnpurgeableAge: number;
  cacheableStatuses: ReadonlySet<number>;
  /** Leave a response alone when its handler set Cache-Control itself (default). */
  respectHandlerCacheControl: boolean;
  /** The manifest's `defaults.credentialHeaders`: private answers vary on them. Default Authorization, Cookie. */
  credentialHeaders?: readonly string[];
  /** The manifest's `defaults.negativeTtl`: the longest life of a 4xx/5xx answer. Default 10 s. */
  negativeTtl?: number;
}

// Most policies emit the same headers for every request: only CDN-level policies name their
// tags, and otherwise tags matter only through the browser cap (whether there are any).
const memo = new WeakMap<Policy, Map<string, Record<string, string>>>();

function derived(policy: Policy, tags: readonly string[], ctx: HeaderContext, status: number): Record<string, string> {
  const options = {
    tags,
    maxUnpurgeableAge: ctx.maxUnpurgeableAge,
    status,
    ...(ctx.credentialHeaders ? { credentialHeaders: ctx.credentialHeaders } : {}),
    ...(ctx.negativeTtl !== undefined ? { negativeTtl: ctx.negativeTtl } : {}),
  };
  if (storesAt(policy, 'cdn') && tags.length > 0) return headersFor(policy, options);
  const negative = negativeBound(options);
  const variant = `${tags.length > 0 ? 't' : '-'}${ctx.maxUnpurgeableAge}/${negative ?? ''}/${ctx.credentialHeaders?.join() ?? ''}`;
  const byVariant = memo.get(policy) ?? new Map<string, Record<string, string>>();
  memo.set(policy, byVariant);
  const headers = byVariant.get(variant) ?? headersFor(policy, options);
  byVariant.set(variant, headers);
  return headers;
}

/** A Vary value with `names` merged in, each field once (RFC 9110 §12.5.5). */
export function mergeVary(existing: string | null, names: readonly string[]): string | null {
  if (names.length === 0) return existing;
  const fields = (existing ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const seen = new Set(fields.map((f) => f.toLowerCase()));
  for (const name of names) if (!seen.has(name.toLowerCase())) fields.push(name.toLowerCase());
  return fields.length > 0 ? fields.join(', ') : null;
}

/** What the header rules read of a response: a Response, or a stored answer on the fast path. */
export interface ResponseView {
  status: number;
  headers: { has(name: string): boolean; get(name: string): string | null };
}

/**
 * The headers a response leaves with. The handler wins where it decided for itself: a
 * Cache-Control it set is kept as is (only Vary is merged, so every cache keys it as Strata does,
 * private answers on the credential headers included). Otherwise the policy's headers are set,
 * with these safety rules:
 * - a status no cache should keep (5xx, 206, temporary redirects…) gets no-store everywhere;
 * - a cacheable 4xx/5xx (404, 410) lives at most `negativeTtl` at every level, never immutable;
 * - a response setting a cookie is never shared: the policy is applied as `private` without the
 *   CDN level (RFC 9111 §7.3 — Set-Cookie alone does not stop a shared cache).
 */
export function policyHeaders(response: ResponseView, ctx: HeaderContext): Record<string, string> {
  const { policy, tags } = ctx.match;
  if (ctx.respectHandlerCacheControl && response.headers.has('cache-control')) {
    // A private answer varies on the credential headers whoever chose its Cache-Control.
    const merged = mergeVary(response.headers.get('vary'), varyNamesFor(policy, ctx.credentialHeaders));
    return merged ? { vary: merged } : {};
  }
  if (!ctx.cacheableStatuses.has(response.status) && response.status !== 304) return { ...NO_STORE };
  let effective: Policy = policy;
  if (response.headers.has('set-cookie') && storesAt(policy, 'cdn')) {
    effective = { ...policy, scope: 'private', levels: policy.levels.filter((level) => level !== 'cdn') };
  }
  const headers = { ...derived(effective, tags, ctx, response.status) };
  const merged = mergeVary(response.headers.get('vary'), varyNamesFor(effective, ctx.credentialHeaders));
  if (merged) headers.vary = merged;
  return headers;
}

/** A copy of `response` whose headers can be changed (fetch responses have immutable ones). */
export function mutable(response: Response): Response {
  return new Response(response.body, response);
}

export function withHeaders(response: Response, headers: Record<string, string>): Response {
  const out = mutable(response);
  for (const [name, value] of Object.entries(headers)) out.headers.set(name, value);
  return out;
}
