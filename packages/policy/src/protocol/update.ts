/**
 * Page → waiting worker: take over now (`skipWaiting`). Sent by `applyUpdate()` of
 * `@strata/client` to a worker built with `skipWaiting: false`; it needs no reply (the page sees
 * `controllerchange`), so it is not one of the request/reply messages.
 */
export const MSG_SKIP_WAITING = 'strata:skip-waiting';
