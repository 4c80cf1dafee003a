import type { Partitions } from './partition.js';
import type { TagIndex } from './tag-index.js';

export interface ReconcileResult {
  /** Caches of other manifest versions deleted. */
  droppedCaches: number;
  /** Index records whose entry was gone. */
  orphanRecords: number;
  /**
   * Stored URLs the index did not know (no purge could have reached them), and entries an earlier
   * worker stored with a credential: request headers or a raw `strata-vary` value in the key.
   */
  orphanEntries: number;
}

/**
 * Whether a stored key request may hold a credential: varied values not hashed, or any header at
 * all. This worker's keys have none (`cacheKey`); one that has headers kept the page's request as
 * it was, with credentials of whatever name the manifest declares, or declared since.
 */
function holdsCredential(request: Request): boolean {
  const varied = new URL(request.url).searchParams.get('strata-vary');
  return [...request.headers].length > 0 || (varied !== null && !/^[0-9a-f]{64}$/.test(varied));
}

/**
 * Runs on activate. Drops the caches of other manifest versions under the same prefix, and the
 * partitions of users other than the current one (left by a worker that kept them), then makes
 * Cache Storage and the tag index agree: they share no transactions
 * (docs/http-rules.md#cache-api), so a worker stopped between the two writes leaves one side with
 * entries the other does not know. Records without an entry are deleted; entries without a record
 * are evicted, as no purge could reach them.
 */
export async function reconcile(
  caches: CacheStorage,
  index: Pick<TagIndex, 'all' | 'delete'>,
  partitions: Pick<Partitions, 'owns' | 'isCurrent' | 'isOtherUser' | 'ready'>,
): Promise<ReconcileResult> {
  await partitions.ready;
  const result: ReconcileResult = { droppedCaches: 0, orphanRecords: 0, orphanEntries: 0 };
  const stored = new Map<string, Set<string>>();
  const tainted = new Set<string>();
  for (const name of await caches.keys()) {
    if (partitions.isCurrent(name) && !partitions.isOtherUser(name)) {
      const keys = await (await caches.open(name)).keys();
      for (const request of keys) if (holdsCredential(request)) tainted.add(`${name} ${request.url}`);
      stored.set(name, new Set(keys.map((request) => request.url)));
    } else if (partitions.owns(name) && (await caches.delete(name))) result.droppedCaches++;
  }
  const orphans: string[] = [];
  const known = new Set<string>();
  for (const record of await index.all()) {
    if (stored.get(record.cache)?.has(record.key) && !tainted.has(record.id)) known.add(record.id);
    else orphans.push(record.id);
  }
  await index.delete(orphans);
  result.orphanRecords = orphans.length;
  for (const [name, urls] of stored) {
    const cache = await caches.open(name);
    for (const url of urls) {
      if (!known.has(`${name} ${url}`) && (await cache.delete(url, { ignoreVary: true }))) result.orphanEntries++;
    }
  }
  return result;
}
