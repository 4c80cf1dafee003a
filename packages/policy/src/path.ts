/**
 * One canonical form of a request path, shared by route matching and every cache key, so that a
 * path and its percent-encoded spellings select the same route, the same tags and the same entry
 * (as a framework that decodes before routing sees them).
 */

// RFC 3986 §3.3: pchar and '/'. A path made only of these and without escapes is already canonical.
const PLAIN = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
// RFC 3986 §2.3: unreserved characters, the only ones whose escapes are decoded (§6.2.2.2).
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
// Dot segments (also spelled %2e) and backslashes, which a URL parser turns into '/'.
const NEEDS_PARSE = /\/\.\.?(?:\/|$)|%2e|\\/i;
const BASE = 'http://strata.invalid';

/** The path of a URL, a path or a path with query and fragment, as sent (not canonical). */
export function rawPath(url: string | URL): string {
  if (typeof url !== 'string') return url.pathname;
  if (!url.startsWith('/')) return new URL(url).pathname;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/**
 * Canonical text of one path (or of a prefix of one, for `partial`): escapes of unreserved
 * characters decoded, the hex of the other escapes upper-cased (RFC 3986 §6.2.2.1–2), characters
 * outside pchar percent-encoded as UTF-8. `%2F` stays an escape, so it never becomes a separator.
 * Undefined for an invalid escape, a NUL (raw or `%00`), or (unless `partial`) escapes that do not
 * decode as UTF-8: no cache may store such a path, as routers disagree on what it names.
 */
export function canonicalText(text: string, partial = false): string | undefined {
  if (PLAIN.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!HEX2.test(hex)) return undefined;
      const code = Number.parseInt(hex, 16);
      if (code === 0) return undefined;
      const char = String.fromCharCode(code);
      out += UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
      i += 2;
    } else if (c === '/' || PCHAR.test(c)) out += c;
    else if (c === '\0') return undefined;
    else {
      const point = text.codePointAt(i) as number;
      const whole = String.fromCodePoint(point);
      try {
        out += encodeURIComponent(whole);
      } catch {
        return undefined; // a lone surrogate
      }
      i += whole.length - 1;
    }
  }
  return partial || decoded(out) !== undefined ? out : undefined;
}

/**
 * `text` decoded, or undefined when its escapes are not UTF-8. The result is what the caller
 * tests: a bare `decodeURIComponent(text)` statement, kept only for its throw, is dropped by
 * bundlers that take the function for one without effects (rolldown does, in the worker's build).
 */
function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The canonical path of a URL, a path or a path with query: dot segments resolved as a URL parser
 * resolves them (RFC 3986 §6.2.2.3), then `canonicalText`. A path starting with `//` is a path with
 * an empty first segment, never a host. Undefined when the path is one no cache may store.
 */
export function canonicalPath(url: string | URL): string | undefined {
  let path = rawPath(url);
  // A string path is parsed as a URL parser would parse it only where that changes something.
  if (typeof url === 'string' && url.startsWith('/') && NEEDS_PARSE.test(path)) path = new URL(BASE + path).pathname;
  return canonicalText(path);
}
