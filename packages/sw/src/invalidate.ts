import type { RouteHandlerCallback } from 'workbox-core';
import type { Evictor } from './purge.js';

/**
 * RFC 9111 §4.4: a cache MUST invalidate the target URI when an unsafe request through it gets a
 * 2xx or 3xx answer, and MAY invalidate Location and Content-Location when they are same-origin.
 * Without this a POST that changes a resource leaves the worker serving the old GET until its TTL
 * runs out (docs/http-rules.md#pitfalls, item 21). The manifest's write rules for the request
 * (`rules`) are evicted with them, so the tab that wrote reads its write at once, before the purge
 * stream brings the server's event back. The request itself goes to the network untouched.
 */
export function invalidateOnWrite(
  evictor: Evictor,
  origin: string,
  rules: (url: URL, method: string) => string[],
): RouteHandlerCallback {
  return async ({ request, url }) => {
    const response = await fetch(request);
    if (response.status >= 200 && response.status < 400) {
      const keys = [url.href];
      for (const name of ['location', 'content-location']) {
        const value = response.headers.get(name);
        if (!value || !URL.canParse(value, url)) continue;
        const target = new URL(value, url);
        if (target.origin === origin) keys.push(target.href);
      }
      // Before the page sees the answer, so a read that follows the write cannot get the old copy.
      await evictor.purge(rules(url, request.method), keys).catch(() => 0);
    }
    return response;
  };
}
