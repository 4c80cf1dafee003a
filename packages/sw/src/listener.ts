import type { RouteMatch } from '@strata/policy';
import type { RouteHandlerCallback } from 'workbox-core';

/** The handlers a fetch can reach; see `listen`. */
export interface Handlers {
  /** The manifest's browser-level route for `url` and `method`, if any. */
  route(url: URL, method: string): RouteMatch | undefined;
  /** GET and HEAD on a browser-level route; gets the route's match as `params`. */
  read: RouteHandlerCallback;
  /** Whether the manifest gives write rules for an unsafe `method` on `url`. */
  writes(url: URL, method: string): boolean;
  /**
   * An unsafe method on a URL whose GET is on a browser-level route (RFC 9111 §4.4), or that has
   * write rules; `params` is the GET's route match, if any.
   */
  write: RouteHandlerCallback;
  /** Answers when `read` or `write` fails (the navigation fallback); its failure is the page's. */
  fallback?: RouteHandlerCallback | undefined;
}

const UNSAFE = ['POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Adds the worker's fetch listener. Only same-origin requests on a browser-level route are
 * answered; everything else is left to the browser (or to a fetch listener of your own, added
 * before `installStrata`, that answers it and stops the event's propagation).
 */
export function listen(scope: ServiceWorkerGlobalScope, handlers: Handlers): void {
  scope.addEventListener('fetch', (event) => {
    const { request } = event;
    const url = new URL(request.url);
    if (url.origin !== scope.location.origin) return;
    const { method } = request;
    const read = method === 'GET' || method === 'HEAD';
    if (!read && !UNSAFE.includes(method)) return;
    const params = handlers.route(url, read ? method : 'GET');
    if (!params && (read || !handlers.writes(url, method))) return;
    const options = params ? { request, url, event, params } : { request, url, event };
    let response = (read ? handlers.read : handlers.write)(options);
    const { fallback } = handlers;
    if (fallback) response = response.catch(() => fallback(options));
    event.respondWith(response);
  });
}
