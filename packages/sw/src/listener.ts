import type { RouteMatch } from '@strata/policy';
import type { RouteHandlerCallback } from 'workbox-core';

/** The handlers a fetch can reach; see `listen`. */
export interface Handlers {
  /** The manifest's browser-level route for `url` and `method`, if any. */
  route(url: URL, method: string): RouteMatch | undefined;
  /** GET and HEAD on a browser-level route; gets the route's match as `params`. */
  read: RouteHandlerCallback;
  /** An unsafe method on a URL whose GET is on a browser-level route (RFC 9111 §4.4). */
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
    const params = handlers.route(url, read ? method : 'GET');
    if (!params || !(read || UNSAFE.includes(method))) return;
    const options = { request, url, event, params };
    let response = (read ? handlers.read : handlers.write)(options);
    const { fallback } = handlers;
    if (fallback) response = response.catch(() => fallback(options));
    event.respondWith(response);
  });
}
