import { canonicalPath, sha256Hex } from '@strata/policy';
import { appendCacheStatus } from '@strata/policy/protocol';

/**
 * What a stored entry carries besides the origin's response. Cache Storage keeps no metadata
 * (SW spec §5.2; docs/http-rules.md#cache-api) and the hit path must not wait on IndexedDB, so everything a
 * hit needs travels in one header of the stored copy,
 * `x-strata: <stored-at> <partition> <credential> <variant> <tags…>` (none of them holds a
 * space): one `caches.match` answers a request. The page never sees the header; `serve` strips it.
 */
export const META = 'x-strata';

/** A digest field that does not apply to the entry. */
export const NONE = '-';

export interface EntryMeta {
  /** When the worker stored it (ms since the epoch, the worker's clock). */
  storedAt: number;
  /** `public`, `credential` or the user partition. */
  partition: string;
  /**
   * For private and credential-varied entries, the digest of the request's credential headers
   * (`headerDigest` of `StrategyContext.credentials`): a hit needs the same one. `NONE` for other entries.
   */
  credential: string;
  /** The digest of the request's values of the stored Vary's fields (`headerDigest`), or `NONE`. */
  variant: string;
  tags: readonly string[];
}

/**
 * SHA-256 of a request's values of `names` (lower-case), in hex: what a key or an entry keeps of the headers
 * that select it, never the values (a token would outlive sign-out in a key, docs/threat-model.md).
 */
export function headerDigest(request: Request, names: readonly string[]): Promise<string> {
  return sha256Hex(JSON.stringify(names.map((name) => [name, request.headers.get(name)])));
}

// Fetch §2.2.3: a null body status cannot be given a body, not even an empty stream.
const NULL_BODY = [101, 103, 204, 205, 304];

export function copy(response: Response, edit: (headers: Headers) => void, body = response.body): Response {
  const headers = new Headers(response.headers);
  edit(headers);
  return new Response(NULL_BODY.includes(response.status) ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** Whether a network response may be stored: a 200, not opaque, no `Vary: *`, no `no-store`. */
export function isStorable(response: Response): boolean {
  const { headers } = response;
  return (
    response.status === 200 &&
    !response.type.startsWith('opaque') &&
    // Cache.put rejects `Vary: *` (SW spec §5.4.6); an explicit no-store from the origin wins over the manifest.
    !varyNames(headers.get('vary')).includes('*') &&
    !/(^|,)\s*no-store\s*(,|$)/i.test(headers.get('cache-control') ?? '')
  );
}

/** Lower-case header names in a Vary value. */
export function varyNames(value: string | null): string[] {
  return value ? value.split(',').flatMap((name) => name.trim().toLowerCase() || []) : [];
}

/**
 * The Vary a stored copy (and the page) gets: the origin's fields plus the policy's `vary`.
 * RFC 9110 §12.5.5: Vary extends the cache key, so the policy's vary must be in it even when the
 * origin forgot to send it — for the browser's HTTP cache and any cache the response reaches.
 */
export function storedVary(origin: string | null, vary: readonly string[]): string[] {
  const names = varyNames(origin);
  return [...names, ...vary.filter((name) => !names.includes(name))];
}

/** The copy that goes into Cache Storage, stamped with its metadata. Consumes `response`'s body. */
export function stamp(response: Response, meta: EntryMeta, vary: readonly string[]): Response {
  return copy(response, (headers) => {
    headers.set(META, [meta.storedAt, meta.partition, meta.credential, meta.variant, ...meta.tags].join(' '));
    if (vary.length > 0) headers.set('vary', vary.join(', '));
  });
}

/**
 * Whether a stored entry answers `request`, when it was stored, and when a soft purge marked it
 * stale (`<stored-at>~<soft>`, `Evictor.purge`). Variants are selected here,
 * not by Cache Storage's Vary matching (the stored request keeps no headers to match): the entry
 * must be of `partition`, stored for the same credential digest, and the request's values of the
 * stored Vary's fields must hash to the entry's variant (RFC 9111 §4.1).
 */
export async function storedAtFor(
  cached: Response,
  request: Request,
  partition: string,
  credential: string,
): Promise<[storedAt: number, soft: number | undefined] | undefined> {
  const [at = '', owner, stored, variant] = (cached.headers.get(META) ?? '').split(' ');
  const [storedAt = 0, soft] = at.split('~').map(Number);
  // A field missing (no metadata, an older format) compares unequal: the entry is not served.
  if (!(storedAt > 0) || owner !== partition || stored !== credential) return undefined;
  const names = varyNames(cached.headers.get('vary'));
  return variant === (names.length === 0 ? NONE : await headerDigest(request, names)) ? [storedAt, soft] : undefined;
}

/**
 * The Cache Storage key of a request: its URL without the fragment and, for a policy with `vary`,
 * a `strata-vary` parameter holding the digest of the varied values. Chromium's `Cache.put`
 * replaces every entry of a URL whatever their Vary (the SW spec, §5.4 Batch Cache Operations,
 * replaces only the Vary-matching ones), so variants live under distinct key URLs. The key is a
 * GET with no headers: Cache Storage keeps the key request's headers with the entry, readable by
 * any script of the origin, and the page's request may carry Authorization or Cookie.
 */
export async function cacheKey(request: Request, vary: readonly string[]): Promise<Request> {
  const url = canonicalUrl(request.url);
  if (vary.length > 0) url.searchParams.append('strata-vary', await headerDigest(request, vary));
  return new Request(url.href);
}

/**
 * A URL with its path in the canonical form route matching uses (RFC 3986 §6.2.2) and no fragment,
 * so `/api/v1/%75sers/3` and `/api/v1/users/3` are one entry, and a purge by either key reaches it.
 * A path with no canonical form is never stored (it matches no route), so it is left as it is.
 */
export function canonicalUrl(href: string, base?: string): URL {
  const url = new URL(href, base);
  url.hash = '';
  const path = canonicalPath(url);
  if (path !== undefined) url.pathname = path;
  return url;
}

/**
 * Fields a server cache sets to say how it answered one request (`X-Cache: MISS`,
 * `X-Cache-Level: MEMORY`). Stored with the entry, they would describe the request that filled it,
 * not the answer the worker gives now; Cache-Status keeps every layer's member instead.
 */
const UPSTREAM_VERDICTS = ['x-cache', 'x-cache-level'];

/**
 * The page's response from a stored entry: metadata and upstream verdicts stripped, Age set,
 * `member` appended to Cache-Status.
 */
export function serve(cached: Response, member: string, residentMs: number, head: boolean): Response {
  return copy(
    cached,
    (headers) => {
      headers.delete(META);
      for (const name of UPSTREAM_VERDICTS) headers.delete(name);
      // RFC 9111 §4.2.3, §5.1: a cache sends Age on a stored response, replacing the value it received
      // with that value plus the time the response has been resident here.
      const upstream = Number.parseInt(headers.get('age') ?? '', 10) || 0;
      headers.set('age', String(upstream + Math.max(0, Math.floor(residentMs / 1000))));
      // RFC 9211 §2: the upstream members stay, in order; this cache's member goes last.
      headers.set('cache-status', appendCacheStatus(headers.get('cache-status'), member));
    },
    head ? null : cached.body,
  );
}

/** A network response with `member` appended to its Cache-Status. Consumes `response`'s body. */
export function annotate(response: Response, member: string): Response {
  if (response.type.startsWith('opaque')) return response;
  return copy(response, (headers) =>
    headers.set('cache-status', appendCacheStatus(headers.get('cache-status'), member)),
  );
}
