import { createHash } from 'node:crypto';

/** RFC 9110 §13.1.2: If-None-Match uses weak comparison — `W/` is ignored on both sides. */
export function ifNoneMatchMatches(header: string | null, etag: string | null): boolean {
  if (header === null || etag === null) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const target = opaque(etag);
  return header.split(',').some((candidate) => opaque(candidate) === target);
}

/**
 * A strong ETag for a body the origin sent without one. The content coding is part of the
 * hash, so gzip and identity variants never share a validator (RFC 9110 §8.8.3.3).
 */
export function etagFor(body: Uint8Array, contentEncoding: string | null): string {
  const hash = createHash('sha256')
    .update(contentEncoding ?? 'identity')
    .update('\0')
    .update(body)
    .digest('base64url');
  return `"${hash.slice(0, 27)}"`;
}

/** RFC 9110 §15.4.5: the fields a 304 must repeat from the 200 it stands for. */
export const NOT_MODIFIED_FIELDS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary'];

/** Hop-by-hop fields and fields that describe one transfer, never stored with an entry. */
export const UNSTORED_FIELDS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'age',
  'x-cache',
  'x-cache-level',
  'set-cookie',
]);
