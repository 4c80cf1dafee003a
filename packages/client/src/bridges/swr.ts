import type { Key, ScopedMutator } from 'swr';
import type { StrataClient } from '../client.js';
import { bridgePurges, type Described } from './purged.js';

export interface SwrBridgeOptions {
  /**
   * The purge tags and URL of an SWR key. Default: no tags, and the key itself as the URL when it
   * is a string (or an array starting with one), the usual `useSWR('/api/…', fetcher)`.
   */
  describe?: (key: Key) => Described;
}

const fromKey = (key: Key): Described => {
  const first = Array.isArray(key) ? key[0] : key;
  return { tags: [], url: typeof first === 'string' ? first : undefined };
};

/**
 * Revalidates the SWR keys each Strata purge names (`mutate` with a key filter, from
 * `useSWRConfig()` or `swr`'s global `mutate`), once per purge in each tab; a reset revalidates
 * every key that names a tag or URL. Revalidating never purges anything. Returns the unsubscribe.
 */
export function revalidateOnPurge(
  strata: StrataClient,
  mutate: ScopedMutator,
  options: SwrBridgeOptions = {},
): () => void {
  return bridgePurges(strata, options.describe ?? fromKey, (filter) => void mutate(filter));
}
