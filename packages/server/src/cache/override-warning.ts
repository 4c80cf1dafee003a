import type { RouteMatch } from '@strata/policy';
import type { StrataLogger } from '../logger.js';
import { type HeaderContext, policyHeaders, type ResponseView } from './policy-headers.js';

const normalize = (value: string) => value.toLowerCase().replace(/\s+/g, '');

/**
 * Tells the logger, once per route, when a handler's own Cache-Control replaces the one the
 * manifest's policy gives (`respectHandlerCacheControl`). `express.static` and `res.sendFile`
 * set `public, max-age=0` on every file unless told not to, which silently turns off the
 * manifest's policy for pages, assets and the service worker script.
 */
export function handlerOverrideReporter(
  logger: StrataLogger,
  headers: Omit<HeaderContext, 'match'>,
): (response: ResponseView, match: RouteMatch) => void {
  // One entry per manifest route at most: bounded by the manifest.
  const reported = new Set<number>();
  return (response, match) => {
    if (!headers.respectHandlerCacheControl || reported.has(match.index)) return;
    const own = response.headers.get('cache-control');
    if (own === null || !headers.cacheableStatuses.has(response.status)) return;
    const policy = policyHeaders(response, { ...headers, match, respectHandlerCacheControl: false })['cache-control'];
    if (policy === undefined || normalize(policy) === normalize(own)) return;
    reported.add(match.index);
    logger.warn(
      `Strata: the handler of route '${match.route.match}' set "Cache-Control: ${own}", which replaces the ` +
        `manifest's "${policy}" because respectHandlerCacheControl is true. express.static and res.sendFile ` +
        'set a Cache-Control on every file: serve with express.static(dir, { cacheControl: false }) ' +
        '(res.sendFile(path, { cacheControl: false })) so the manifest decides, or set ' +
        'respectHandlerCacheControl: false to make the manifest win everywhere. Reported once per route.',
      {
        route: match.route.match,
        handlerCacheControl: own,
        policyCacheControl: policy,
        option: 'respectHandlerCacheControl',
      },
    );
  };
}
