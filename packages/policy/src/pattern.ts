import { StrataError } from './errors.js';
import { canonicalPath, canonicalText } from './path.js';

export type Segment = { kind: 'static'; value: string } | { kind: 'param'; name: string };

/**
 * A parsed route pattern. `/api/v1/users/:id` has three static segments and one param;
 * `/api/v1/users*` has two segments and a trailing wildcard whose last segment must start
 * with `users`; `/static/*` has one segment and a wildcard with an empty prefix.
 */
export interface Pattern {
  source: string;
  segments: Segment[];
  /** Present when the pattern ends in `*`: the rest of the path must start with `prefix`. */
  wildcard?: { prefix: string };
  params: string[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 3986 §3.3 pchar: unreserved / pct-encoded / sub-delims / ':' / '@'. Literal segments are
// compared in canonical form (see path.ts) with the canonical request path, so they must be written
// encoded too; `/m%65` and `/me` are the same literal.
const PCHARS = /^(?:[A-Za-z0-9\-._~!$&'()+,;=:@]|%[0-9A-Fa-f]{2})*$/;

/** Parses a route pattern, throwing `E_PATTERN_INVALID` with a message that says what is wrong. */
export function parsePattern(source: string): Pattern {
  checkPattern(source);
  return splitPattern(source);
}

function checkPattern(source: string): void {
  const fail = (why: string): never => {
    throw new StrataError('E_PATTERN_INVALID', `invalid pattern '${source}': ${why}`);
  };
  if (typeof source !== 'string' || !source.startsWith('/')) fail('must start with /');
  if (source.includes('?') || source.includes('#')) fail('must be a path only: queries are ignored for matching');
  const star = source.indexOf('*');
  if (star !== -1 && star !== source.length - 1) fail('* may only appear once, at the end');

  const { parts, prefix } = patternParts(source);
  if (prefix !== undefined) {
    if (prefix.startsWith(':')) fail('a :param cannot be followed by *');
    if (!PCHARS.test(prefix)) fail(`'${prefix}' has characters that must be percent-encoded`);
    if (canonicalText(prefix, true) === undefined) fail(`'${prefix}' holds %00`);
  }
  const params: string[] = [];
  parts.forEach((part, i) => {
    if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!PARAM_NAME.test(name)) fail(`'${part}' is not a valid param (letters, digits and _ after the colon)`);
      if (params.includes(name)) fail(`param :${name} appears twice`);
      params.push(name);
      return;
    }
    // An empty segment is only allowed last, where it is a trailing slash ('/' or '/users/').
    if (part === '' && (i !== parts.length - 1 || prefix !== undefined)) fail('empty path segment (//)');
    if (!PCHARS.test(part)) fail(`'${part}' has characters that must be percent-encoded`);
    if (canonicalText(part) === undefined) fail(`'${part}' holds %00 or escapes that are not UTF-8`);
  });
}

/** A pattern's segments as written, and the wildcard's prefix (the part before `*`), if any. */
function patternParts(source: string): { parts: string[]; prefix: string | undefined } {
  const wildcard = source.endsWith('*');
  const parts = (wildcard ? source.slice(0, -1) : source).slice(1).split('/');
  return { parts, prefix: wildcard ? (parts.pop() ?? '') : undefined };
}

/**
 * The parsed form of a pattern `parsePattern` accepts, without its checks: for the patterns of a
 * manifest that was validated (by `defineManifest` or `parseManifest`), so that matching, in a
 * service worker, carries none of the checks or their messages.
 */
export function splitPattern(source: string): Pattern {
  const { parts, prefix } = patternParts(source);
  const segments = parts.map(
    (part): Segment =>
      part.startsWith(':')
        ? { kind: 'param', name: part.slice(1) }
        : { kind: 'static', value: canonicalText(part) ?? part },
  );
  const params = parts.flatMap((part) => (part.startsWith(':') ? [part.slice(1)] : []));
  if (prefix === undefined) return { source, segments, params };
  return { source, segments, wildcard: { prefix: canonicalText(prefix, true) ?? prefix }, params };
}

/**
 * The canonical path of a URL, path or path-with-query (see `canonicalPath`), split into segments.
 * Undefined when the path is one no cache may store (invalid escape, NUL, not UTF-8).
 */
export function pathSegments(url: string | URL): string[] | undefined {
  return canonicalPath(url)?.slice(1).split('/');
}

/**
 * Whether every path `b` matches is also matched by `a`. Used to report duplicate and
 * fully shadowed routes.
 */
export function covers(a: Pattern, b: Pattern): boolean {
  const coversSegment = (x: Segment, y: Segment): boolean =>
    x.kind === 'static' ? y.kind === 'static' && y.value === x.value : y.kind === 'param' || y.value !== '';

  if (!a.wildcard) {
    return (
      !b.wildcard &&
      a.segments.length === b.segments.length &&
      a.segments.every((seg, i) => coversSegment(seg, b.segments[i] as Segment))
    );
  }
  const n = a.segments.length;
  if (b.segments.length < n) return false;
  for (let i = 0; i < n; i++) if (!coversSegment(a.segments[i] as Segment, b.segments[i] as Segment)) return false;
  // The rest of every path b matches must start with a's prefix.
  const next = b.segments[n];
  if (next) return next.kind === 'static' ? next.value.startsWith(a.wildcard.prefix) : a.wildcard.prefix === '';
  return b.wildcard?.prefix.startsWith(a.wildcard.prefix) ?? false;
}
