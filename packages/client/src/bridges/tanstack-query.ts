import type { Query, QueryClient } from '@tanstack/query-core';
import type { StrataClient } from '../client.js';
import { bridgePurges, type Described } from './purged.js';

export interface QueryBridgeOptions {
  /**
   * The purge tags and URL of a query. Default: its `meta.tags` (an array of tags, as the server's
   * manifest derives them: `['user:42']`) and `meta.url`.
   */
  describe?: (query: Query) => Described;
}

const fromMeta = (query: Query): Described => {
  const { tags, url } = (query.meta ?? {}) as { tags?: unknown; url?: unknown };
  return {
    tags: Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [],
    url: typeof url === 'string' ? url : undefined,
  };
};

/**
 * Invalidates the TanStack Query queries each Strata purge names (`invalidateQueries`: active
 * ones refetch, through the worker, which the purge already emptied), once per purge in each tab;
 * a reset invalidates every query that names a tag or URL. Invalidating never purges anything.
 * Returns the unsubscribe.
 */
export function invalidateQueriesOnPurge(
  strata: StrataClient,
  queryClient: QueryClient,
  options: QueryBridgeOptions = {},
): () => void {
  return bridgePurges(
    strata,
    options.describe ?? fromMeta,
    (predicate) => void queryClient.invalidateQueries({ predicate }),
  );
}
