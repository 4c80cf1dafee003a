import { createHash } from 'node:crypto';

/**
 * The URL part of a cache key: scheme and host lower-cased, path as sent, query parameters
 * sorted (stable for equal names), fragment dropped. `?b=2&a=1` and `?a=1&b=2` share an entry.
 */
export function normalizeUrl(url: string | URL): string {
  const parsed = new URL(url);
  parsed.hash = '';
  parsed.searchParams.sort();
  const search = parsed.searchParams.toString();
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${search ? `?${search}` : ''}`;
}

/** Field values compared after trimming and folding inner whitespace (RFC 9111 §4.1). */
const normalizeField = (value: string | null) => (value === null ? null : value.trim().replace(/[ \t]+/g, ' '));

/**
 * The server cache key: `GET <normalized url>`, plus a hash of the Vary field values and the
 * partition when there are any. The hash input is a JSON array, so no header value can forge
 * another key by embedding separators, and a header outside `vary` never reaches the key.
 */
export function cacheKey(url: string, headers: Headers, vary: readonly string[], partition?: string): string {
  const base = `GET ${normalizeUrl(url)}`;
  if (vary.length === 0 && partition === undefined) return base;
  const variant = JSON.stringify([partition ?? null, ...vary.map((name) => [name, normalizeField(headers.get(name))])]);
  return `${base} #${createHash('sha256').update(variant).digest('base64url').slice(0, 22)}`;
}

/**
 * The implicit tag every entry of one URL carries, so a URL is invalidated in O(1) in all its
 * variants and partitions. It hashes the path and sorted query only: `purge({ keys: ['/a'] })`
 * reaches `/a` on every host name the app answers to.
 */
export function urlTag(url: string | URL): string {
  const parsed = new URL(url, 'http://strata.invalid');
  parsed.searchParams.sort();
  const search = parsed.searchParams.toString();
  const target = `${parsed.pathname}${search ? `?${search}` : ''}`;
  return `url:${createHash('sha256').update(target).digest('base64url').slice(0, 22)}`;
}
