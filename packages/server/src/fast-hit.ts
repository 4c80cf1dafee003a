import { PARTITION_HEADER, type RouteMatch } from '@strata/policy';
import type { HitHeaders } from './cache/hit-block.js';
import { variantKey } from './cache/key.js';
import { type HeaderContext, policyHeaders } from './cache/policy-headers.js';
import type { Lookup, ResponseCache, StoredAnswer } from './cache/response-cache.js';
import { type PartitionOf, partitionName } from './partition.js';
import type { Located, Place } from './route-lookup.js';

/**
 * A fresh server-cache hit answered from plain request data (method, absolute URL, a header
 * reader), without Request or Response objects. Undefined means "take the full path" (`handle`).
 */
export type AnswerFromCache = (
  method: string,
  url: string,
  header: (name: string) => string | null,
) => Promise<StoredAnswer | undefined>;

/**
 * `AnswerFromCache` without a promise, for public routes whose entry the store holds in this
 * process (the memory store, the L1): the answer, or null when there is none (use `handle`).
 * Undefined means only `AnswerFromCache` can tell.
 */
export type AnswerNow = (
  method: string,
  url: string,
  header: (name: string) => string | null,
) => StoredAnswer | null | undefined;

export interface FastHitDeps {
  /** What a method and URL mean, memoized (shared with `handle`). */
  locate: (method: string, href: string) => Located;
  cache: ResponseCache;
  enabled: boolean;
  /** The header context `handle` uses, without the route. */
  context: Omit<HeaderContext, 'match'>;
  negativeTtl: number;
  partition: PartitionOf | undefined;
}

/** A place whose route the server cache stores. */
type StoredPlace = Place & { match: RouteMatch; stored: NonNullable<Place['stored']> };

const isStored = (found: Located): found is StoredPlace =>
  typeof found !== 'string' && found.match !== undefined && found.stored !== undefined;

const NONE: Promise<undefined> = Promise.resolve(undefined);

/**
 * The fast path adapters try first. Route matching, URL normalization and the URL tag depend on
 * the URL alone, so they are memoized per method and URL (`routeLookup`, shared with `handle`); the
 * header block depends on the entry, so the cache keeps it per entry (`HitBlocks`). What is left
 * per hit is the memo lookups, the store read, and for private routes `partition` and the key hash.
 * Private routes keep every rule of the full path: the key holds the partition, the answer names
 * it (`Strata-Partition`) and varies on the credential headers.
 */
export function fastHits(deps: FastHitDeps): { answer: AnswerFromCache; answerNow: AnswerNow } {
  const { locate, cache, enabled, context, negativeTtl } = deps;

  /** Adds the route's headers, and a private answer's partition, to a hit being built. */
  function finish(answer: HitHeaders, match: RouteMatch, named: string | undefined): void {
    const view = {
      status: answer.status,
      headers: { has: (n: string) => answer.headers.has(n), get: (n: string) => answer.headers.get(n) ?? null },
    };
    // A stored answer's own Cache-Control was reported (if at all) by the miss that stored it.
    for (const [name, value] of Object.entries(policyHeaders(view, { ...context, match }))) {
      answer.headers.set(name, value);
    }
    if (named !== undefined) answer.headers.set(PARTITION_HEADER, named);
  }

  /** The cache's view of a stored place, for this request's variant. */
  function lookupOf(header: (name: string) => string | null, found: StoredPlace, partition?: string): Lookup {
    const { match } = found;
    const { base, tags } = found.stored;
    const key = variantKey(base, { get: header }, match.policy.vary ?? [], partition);
    return { match, key, tags, partition, negativeTtl };
  }

  function hit(
    method: string,
    header: (name: string) => string | null,
    found: StoredPlace,
    partition?: string,
    named?: string,
  ): Promise<StoredAnswer | undefined> {
    const lookup = lookupOf(header, found, partition);
    return cache.freshAnswer(method, header('if-none-match'), lookup, (answer) => finish(answer, found.match, named));
  }

  async function privateHit(
    method: string,
    header: (name: string) => string | null,
    found: StoredPlace,
  ): Promise<StoredAnswer | undefined> {
    // No partition: never stored, so nothing to hit; the full path answers (and asks again).
    const partition = await deps.partition?.({ method, url: found.url, headers: { get: header } });
    if (partition === undefined) return undefined;
    return hit(method, header, found, partition, await partitionName(partition));
  }

  const stored = (method: string, href: string): StoredPlace | undefined => {
    if (!enabled || (method !== 'GET' && method !== 'HEAD')) return undefined;
    const found = locate(method, href);
    return isStored(found) ? found : undefined;
  };

  // Not async: a public hit goes from the store read to the adapter without another promise.
  const answer: AnswerFromCache = (method, href, header) => {
    const found = stored(method, href);
    if (!found) return NONE;
    return found.match.policy.scope === 'private' ? privateHit(method, header, found) : hit(method, header, found);
  };

  // Private routes need `partition`, which may be async: they are left to `answer`.
  const answerNow: AnswerNow = (method, href, header) => {
    const found = stored(method, href);
    if (!found) return null;
    if (found.match.policy.scope === 'private') return undefined;
    const lookup = lookupOf(header, found);
    return cache.freshAnswerNow(method, header('if-none-match'), lookup, (built) =>
      finish(built, found.match, undefined),
    );
  };

  return { answer, answerNow };
}
