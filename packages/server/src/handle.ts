import { CACHEABLE_METHODS, type Manifest, type Method, manifestHeaderOptions, PARTITION_HEADER } from '@strata/policy';
import { variantKey } from './cache/key.js';
import { handlerOverrideReporter } from './cache/override-warning.js';
import { type HeaderContext, NO_STORE, policyHeaders, type ResponseView, withHeaders } from './cache/policy-headers.js';
import type { Next, ResponseCache } from './cache/response-cache.js';
import { type AnswerFromCache, type AnswerNow, fastHits } from './fast-hit.js';
import type { StrataLogger } from './logger.js';
import { type PartitionOf, partitionName } from './partition.js';
import { routeLookup } from './route-lookup.js';

export interface HandlerDeps {
  manifest: Manifest;
  cache: ResponseCache;
  enabled: boolean;
  headers: Omit<HeaderContext, 'match'>;
  partition: PartitionOf | undefined;
  /** Told once per route when a handler's Cache-Control replaces the policy's. */
  logger: StrataLogger;
  /** Invalidates a write's target URLs at every level, as one purge event. */
  invalidate: (urls: string[]) => Promise<unknown>;
  /**
   * Runs a write whose route has write rules: the purges `run` makes and what `after` names
   * travel as one purge event (`PurgeChannel.write`).
   */
  write: (
    run: () => Promise<Response>,
    after: (response: Response) => { tags: string[]; keys: string[] } | undefined,
  ) => Promise<Response>;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `strata.handle`: policy headers on every managed response, the server cache around `next`. */
export interface Handlers {
  handle(request: Request, next: Next): Promise<Response>;
  answerFromCache: AnswerFromCache;
  answerNow: AnswerNow;
}

export function createHandler(deps: HandlerDeps): Handlers {
  const { manifest, cache, enabled } = deps;
  // The manifest's defaults (credential headers, negative TTL) complete the header context.
  const { credentialHeaders, negativeTtl } = manifestHeaderOptions(manifest);
  const context = { ...deps.headers, credentialHeaders, negativeTtl };
  const reportOverride = handlerOverrideReporter(deps.logger, context);
  const headersOf = (response: ResponseView, ctx: HeaderContext) => {
    reportOverride(response, ctx.match);
    return policyHeaders(response, ctx);
  };
  // Shared with the fast path: a URL's route, key base and tags are worked out once.
  const locate = routeLookup(manifest);
  const serverCached = (url: string) => {
    const place = enabled ? locate('GET', url) : undefined;
    return typeof place === 'object' && place.stored !== undefined;
  };

  // RFC 9111 §4.4: a successful unsafe request invalidates the target URI, and Location /
  // Content-Location when they are same-origin — in every variant, through the URL's tag, and on
  // every instance and browser, through one purge event.
  const succeeded = (response: Response) => response.status >= 200 && response.status < 400;
  function writeTargets(request: Request, response: Response): string[] {
    const origin = new URL(request.url).origin;
    const targets = [request.url];
    for (const field of ['location', 'content-location']) {
      const value = response.headers.get(field);
      if (!value) continue;
      try {
        const target = new URL(value, request.url);
        if (target.origin === origin) targets.push(target.href);
      } catch {
        // an unparseable Location is the origin's problem, not a reason to fail the write
      }
    }
    return targets;
  }

  /**
   * An unsafe request. With write rules on its route, the rules' tags, the written URLs (when the
   * server cache holds their GET) and every purge the handler makes while it runs go out as one
   * event; without, the written URLs alone, when the server cache holds their GET.
   */
  async function write(request: Request, next: Next, rules: string[]): Promise<Response> {
    const cached = serverCached(request.url);
    if (rules.length > 0) {
      return deps.write(
        async () => next(request),
        (response) =>
          succeeded(response) ? { tags: rules, keys: cached ? writeTargets(request, response) : [] } : undefined,
      );
    }
    const response = await next(request);
    if (cached && succeeded(response)) await deps.invalidate(writeTargets(request, response));
    return response;
  }

  async function handle(request: Request, next: Next): Promise<Response> {
    const place = locate(request.method, request.url);
    // A path with an invalid escape, %00 or bytes that are not UTF-8 has no canonical form (RFC 3986
    // §6.2.2): routers disagree on what it names, so it matches no route and no level may store it.
    if (typeof place === 'string') return withHeaders(await next(request), NO_STORE);
    const { match } = place;
    if (!CACHEABLE_METHODS.includes(request.method as Method)) {
      // The write may concern a URL the server cache holds, whether or not the manifest lists the method.
      const response = UNSAFE.has(request.method)
        ? await write(request, next, match?.invalidates ?? [])
        : await next(request);
      return match ? withHeaders(response, headersOf(response, { ...context, match })) : response;
    }
    if (!match) return next(request);
    const ctx = { ...context, match };

    const { policy } = match;
    const partition = policy.scope === 'private' ? await deps.partition?.(request) : undefined;
    // A private answer names its partition, hashed: a service worker refuses to store it under another user.
    const named = partition === undefined ? {} : { [PARTITION_HEADER]: await partitionName(partition) };
    const stored = enabled ? place.stored : undefined;
    // A private policy without a partition is never stored: there is no one to key it to.
    if (!stored || (policy.scope === 'private' && partition === undefined)) {
      const response = await next(request);
      return withHeaders(response, { ...headersOf(response, ctx), ...named });
    }
    const key = variantKey(stored.base, request.headers, policy.vary ?? [], partition);
    const { tags } = stored;
    // The cache hands back responses it built itself, so their headers can be set in place.
    const response = await cache.serve(request, { match, key, tags, partition, negativeTtl }, next);
    for (const [name, value] of Object.entries({ ...headersOf(response, ctx), ...named })) {
      response.headers.set(name, value);
    }
    return response;
  }

  const fast = fastHits({ locate, cache, enabled, context, negativeTtl, partition: deps.partition });
  return { handle, answerFromCache: fast.answer, answerNow: fast.answerNow };
}
