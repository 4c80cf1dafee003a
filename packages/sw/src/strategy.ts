import {
  PARTITION_HEADER,
  partitionHash,
  type RouteMatch,
  servesStaleOnError,
  type Windows,
  windowsFor,
} from '@strata/policy';
import type { Counter } from '@strata/policy/protocol';
import type { RouteHandlerCallbackOptions, RouteHandlerObject, WorkboxPlugin } from 'workbox-core';
import { type CacheStatus, cacheStatusMember } from './cache-status.js';
import { annotate, cacheKey, headerDigest, isStorable, NONE, serve, storedAtFor } from './entry.js';
import type { Epochs } from './epochs.js';
import { freshness, lifetime, servesOnError, ttlLeft } from './freshness.js';
import { Network } from './network.js';
import type { Partitions } from './partition.js';
import type { Stats } from './stats.js';
import type { WriteJob, Writer } from './writer.js';

export interface StrategyContext {
  caches: CacheStorage;
  /** The request headers that carry a credential: Authorization, Cookie and the manifest's `defaults.credentialHeaders`. */
  credentials: readonly string[];
  partitions: Partitions;
  writer: Writer;
  epochs: Epochs;
  stats: Stats;
  now: () => number;
}

/**
 * One request, resolved against the manifest and the current partition: everything a write of
 * its response needs but the response and the ticket.
 */
interface Lookup extends Omit<WriteJob, 'response' | 'ticket'> {
  handler: Network;
  windows: Windows;
  /** The user whose partition a private lookup uses, else null. */
  user: string | null;
}

/**
 * The manifest's browser policy for one request, as a Workbox route handler. The route's match
 * (policy, tags) arrives as the Workbox route's `params`.
 * - fresh → from the cache, no network;
 * - stale within stale-while-revalidate → from the cache, plus one background revalidation;
 * - otherwise → the network, and the response stored;
 * - the network failing or answering 500/502/503/504 within stale-if-error → the stale copy.
 * A hit is one `caches.match`: stored-at and partition travel in the entry's headers, and nothing
 * on this path touches IndexedDB.
 */
export class StrataStrategy implements RouteHandlerObject {
  readonly #ctx: StrategyContext;
  readonly #plugins: readonly WorkboxPlugin[];
  /** Background revalidations in flight, by cache, URL and variant: one per entry (RFC 5861 §3). */
  readonly #revalidating = new Set<string>();

  /** `plugins`: Workbox plugins run around each network fetch (see `Network`). */
  constructor(ctx: StrategyContext, plugins: readonly WorkboxPlugin[] = []) {
    this.#ctx = ctx;
    this.#plugins = plugins;
  }

  async handle({ request, event, params }: RouteHandlerCallbackOptions): Promise<Response> {
    // RFC 9111 §5.2.1.4 no-cache: the browser's HTTP cache must revalidate rather than hand back a
    // copy it kept, which could be one a purge already removed from this cache.
    const handler = new Network(event, this.#plugins, { cache: 'no-cache' });
    return this.#handle(request, handler, params as unknown as RouteMatch);
  }

  async #handle(request: Request, handler: Network, match: RouteMatch): Promise<Response> {
    const { partitions, caches, credentials, now } = this.#ctx;
    const windows = windowsFor(match.policy, 'browser');
    const { scope, vary = [] } = match.policy;
    // A public policy whose vary names a credential header keeps one person's data (`partitionFor`).
    const credentialed = vary.some((name) => credentials.includes(name));
    // One person's entries: wait until the user is known and no user change is dropping caches.
    const personal = scope === 'private' || credentialed;
    if (personal) await partitions.settled();
    const partition = partitions.partitionFor(scope, credentialed);
    if (partition === undefined) {
      // A private response with no user set has no partition to go to: neither stored nor served.
      return annotate(await handler.fetch(request), cacheStatusMember({ fwd: 'bypass', detail: 'no-user' }));
    }
    const head = request.method === 'HEAD';
    // RFC 9110 §9.3.2: HEAD is answered from the stored GET response (the key is a GET request).
    // A personal entry answers only the credential it was stored for, whatever the policy's vary.
    const [key, credential] = await Promise.all([
      cacheKey(request, vary),
      personal ? headerDigest(request, credentials) : NONE,
    ]);
    const cache = partitions.cacheOf(partition);
    const user = scope === 'private' ? partitions.user : null;
    const { tags, route } = match;
    const lookup: Lookup = {
      request,
      key,
      handler,
      windows,
      cache,
      partition,
      user,
      credential,
      tags,
      vary,
      route: route.match,
      lifetime: lifetime(windows),
    };
    // ignoreVary: the stored request has no headers to match; `storedAtFor` selects the variant.
    const cached = await caches.match(key, { cacheName: cache, ignoreVary: true });
    const stamp = cached && (await storedAtFor(cached, request, partition, credential));
    if (!cached || !stamp) return head ? handler.fetch(request) : this.#fetch(lookup);

    const [storedAt, soft] = stamp;
    const age = now() - storedAt;
    // Soft-purged: aged as if its freshness had ended at the purge, so it is stale for at most
    // the stale-while-revalidate window from then, and a miss after (no stale-if-error).
    const aged = soft ? Math.max(age, windows.ttl * 1000 + now() - soft) : age;
    const state = freshness(aged, windows);
    const ttl = ttlLeft(aged, windows);
    if (state === 'fresh') {
      this.#count(lookup, 'hit');
      return serve(cached, cacheStatusMember({ hit: true, ttl }), age, head);
    }
    // HEAD responses are never stored, so a stale HEAD goes to the network without revalidating.
    if (head) return handler.fetch(request);
    if (state === 'stale') return this.#fetch(lookup, soft ? undefined : cached, age);
    this.#count(lookup, 'stale');
    this.#revalidate(lookup);
    return serve(
      cached,
      cacheStatusMember({ fwd: 'stale', ttl, detail: soft ? 'soft-purge' : 'stale-while-revalidate' }),
      age,
      false,
    );
  }

  /** To the network; the response stored, or the stale copy when the network fails within stale-if-error. */
  async #fetch(lookup: Lookup, stale?: Response, age = 0): Promise<Response> {
    const { handler, request, windows } = lookup;
    const ticket = this.#ctx.epochs.begin();
    const fallback = (fwdStatus?: number): Response => {
      ticket.end();
      this.#count(lookup, 'error-fallback');
      const status: CacheStatus = { fwd: 'stale', fwdStatus, ttl: ttlLeft(age, windows), detail: 'stale-if-error' };
      return serve(stale as Response, cacheStatusMember(status), age, false);
    };
    const canFallBack = stale !== undefined && servesOnError(age, windows);
    let response: Response;
    try {
      response = await handler.fetch(request);
    } catch (error) {
      if (canFallBack) return fallback();
      ticket.end();
      throw error;
    }
    if (canFallBack && servesStaleOnError(response.status)) {
      void response.body?.cancel();
      return fallback(response.status);
    }
    this.#count(lookup, 'miss');
    const owned = await ownedBy(response, lookup.user);
    const stored = owned && isStorable(response);
    if (stored) handler.waitUntil(this.#ctx.writer.store({ ...lookup, response: response.clone(), ticket }));
    else ticket.end();
    const fwd = stale ? 'stale' : 'uri-miss';
    const status: CacheStatus = {
      fwd,
      fwdStatus: response.status,
      stored,
      ...(stale && { ttl: ttlLeft(age, windows) }),
      ...(!owned && { detail: 'partition-mismatch' as const }),
    };
    return annotate(response, cacheStatusMember(status));
  }

  #revalidate(lookup: Lookup): void {
    const { request, handler } = lookup;
    const key = `${lookup.cache} ${lookup.key.url}`;
    if (this.#revalidating.has(key)) return;
    this.#revalidating.add(key);
    const ticket = this.#ctx.epochs.begin();
    const done = (async () => {
      try {
        const response = await handler.fetch(request);
        // A failed revalidation keeps the stale entry: the next request past the window retries.
        if (!isStorable(response) || !(await ownedBy(response, lookup.user))) return void response.body?.cancel();
        const result = await this.#ctx.writer.store({ ...lookup, response, ticket });
        if (result !== 'failed') this.#count(lookup, result === 'stored' ? 'revalidated' : 'discarded');
      } catch {
        // the network failed: the stale entry stays
      } finally {
        ticket.end();
        this.#revalidating.delete(key);
      }
    })();
    handler.waitUntil(done);
  }

  #count({ handler, route }: Lookup, counter: Counter): void {
    this.#ctx.stats.bump(route, counter);
    handler.waitUntil(this.#ctx.stats.saveSoon());
  }
}

/**
 * Whether a private answer may go to `user`'s partition: when the server names the answer's
 * partition (`Strata-Partition`, a hash), it must be `user`'s. A cookie session the worker cannot
 * see, or a page that told the worker another user, would otherwise file one user's answer under
 * another. Answers without the header (and public lookups, `user` null) are not judged here.
 */
async function ownedBy(response: Response, user: string | null): Promise<boolean> {
  const named = response.headers.get(PARTITION_HEADER);
  if (user === null || named === null) return true;
  return named.trim().toLowerCase() === (await partitionHash(user));
}
