import { canonicalPath, type Manifest, matchRoute, type RouteMatch, storesAt } from '@strata/policy';
import { normalizeUrl, urlTag } from './cache/key.js';

/** What a method and an absolute URL mean to Strata. */
export interface Place {
  /** The URL as a Request built from it would give it (`Request.url`), for `partition`. */
  url: string;
  /** The manifest route the URL matches for the method, if any. */
  match: RouteMatch | undefined;
  /** Set when that route's policy stores at the server: the URL part of the key and the entry's tags. */
  stored?: {
    /** `GET <normalized url>` (see `cacheKey`). */
    base: string;
    /** The route's tags and the URL's implicit tag. */
    tags: string[];
  };
}

/**
 * `invalid`: not a URL. `odd`: a path with an invalid escape, %00 or bytes that are not UTF-8,
 * which has no canonical form (RFC 3986 §6.2.2): routers disagree on what it names, so it matches
 * no route and no level may store it.
 */
export type Located = Place | 'invalid' | 'odd';

const MAX_PLACES = 10_000;

/**
 * Route matching, URL normalization and the URL tag depend on the method and URL alone, so the
 * fast path and `handle` work them out once per pair and share the answer: a memo bounded in
 * entries and cleared whole when full, which keeps it O(1) whatever URLs clients send.
 */
export function routeLookup(manifest: Manifest): (method: string, href: string) => Located {
  // Per method, then per URL: no key string is built per request.
  const byMethod = new Map<string, Map<string, Located>>();
  let size = 0;

  function locate(method: string, href: string): Located {
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      return 'invalid';
    }
    if (canonicalPath(url) === undefined) return 'odd';
    const match = matchRoute(manifest, url, method);
    const place: Place = { url: url.href, match };
    if (match && storesAt(match.policy, 'server')) {
      place.stored = { base: `GET ${normalizeUrl(url)}`, tags: [...match.tags, urlTag(url)] };
    }
    return place;
  }

  return (method, href) => {
    let places = byMethod.get(method);
    let found = places?.get(href);
    if (found !== undefined) return found;
    found = locate(method, href);
    if (size >= MAX_PLACES) {
      byMethod.clear();
      size = 0;
      places = undefined;
    }
    if (!places) {
      places = new Map();
      byMethod.set(method, places);
    }
    places.set(href, found);
    size++;
    return found;
  };
}
