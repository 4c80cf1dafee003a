import { createHash } from 'node:crypto';
import { canonicalPath, StrataError } from '@strata/policy';

/**
 * The URL part of a cache key: scheme and host lower-cased, the path in canonical form (escapes of
 * unreserved characters decoded, the others' hex upper-cased: RFC 3986 §6.2.2, `canonicalPath`),
 * query parameters sorted (stable for equal names), fragment dropped. `?b=2&a=1` and `?a=1&b=2`
 * share an entry, and so do `/m%65` and `/me`. Throws `E_URL_INVALID` for a path no cache may
 * store (invalid escape, `%00`, not UTF-8).
 */
export function normalizeUrl(url: string | URL): string {
  const parsed = new URL(url);
  const path = canonicalPath(parsed);
  if (path === undefined) {
    throw new StrataError('E_URL_INVALID', `${JSON.stringify(parsed.pathname)} has an invalid escape: never cached`);
  }
  return `${parsed.protocol}//${parsed.host}${path}${sortedQuery(parsed)}`;
}

/** The query with its parameters sorted (stable for equal names), `?` included; empty when none. */
function sortedQuery(parsed: URL): string {
  if (parsed.search === '' || parsed.search === '?') return '';
  const params = new URLSearchParams(parsed.search);
  params.sort();
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** Field values compared after trimming and folding inner whitespace (RFC 9111 §4.1). */
const normalizeField = (value: string | null) => (value === null ? null : value.trim().replace(/[ \t]+/g, ' '));

/**
 * The server cache key: `GET <normalized url>`, plus a hash of the Vary field values and the
 * partition when there are any. The hash input is a JSON array, so no header value can forge
 * another key by embedding separators, and a header outside `vary` never reaches the key.
 */
export function cacheKey(
  url: string | URL,
  headers: { get(name: string): string | null },
  vary: readonly string[],
  partition?: string,
): string {
  return variantKey(`GET ${normalizeUrl(url)}`, headers, vary, partition);
}

/** `cacheKey` from its URL part (`GET <normalized url>`), computed once per URL by the fast path. */
export function variantKey(
  base: string,
  headers: { get(name: string): string | null },
  vary: readonly string[],
  partition?: string,
): string {
  if (vary.length === 0) return partition === undefined ? base : `${base} #${partitionVariant(partition)}`;
  const variant = JSON.stringify([partition ?? null, ...vary.map((name) => [name, normalizeField(headers.get(name))])]);
  return `${base} #${variantHash(variant)}`;
}

const variantHash = (variant: string) => createHash('sha256').update(variant).digest('base64url').slice(0, 22);

/**
 * The key suffix of a partition on a route without Vary, hashed once per partition: a small memo
 * (partition ids, never header values), cleared whole when full, which keeps it O(1).
 */
function partitionVariant(partition: string): string {
  let hash = partitionVariants.get(partition);
  if (hash === undefined) {
    hash = variantHash(JSON.stringify([partition]));
    if (partitionVariants.size >= 10_000) partitionVariants.clear();
    partitionVariants.set(partition, hash);
  }
  return hash;
}

const partitionVariants = new Map<string, string>();

/**
 * The implicit tag every entry of one URL carries, so a URL is invalidated in O(1) in all its
 * variants and partitions. It hashes the path and sorted query only: `purge({ keys: ['/a'] })`
 * reaches `/a` on every host name the app answers to.
 */
export function urlTag(url: string | URL): string {
  // A path is appended to a base, never resolved against it: `//a/b` is a path, not host `a`.
  const parsed = typeof url !== 'string' ? url : new URL(url.startsWith('/') ? `http://strata.invalid${url}` : url);
  // A path no cache stores keeps its raw text: nothing is stored under its tag anyway.
  const target = `${canonicalPath(parsed) ?? parsed.pathname}${sortedQuery(parsed)}`;
  let tag = recentUrlTags.get(target);
  if (tag === undefined) {
    tag = `url:${createHash('sha256').update(target).digest('base64url').slice(0, 22)}`;
    // A small memo: hot URLs are hashed once. Cleared whole when full, which keeps it O(1).
    if (recentUrlTags.size >= 10_000) recentUrlTags.clear();
    recentUrlTags.set(target, tag);
  }
  return tag;
}

const recentUrlTags = new Map<string, string>();
