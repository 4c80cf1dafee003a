import { createClient } from 'redis';

/** One namespace of Redis keys for a test file's run, and the sub-namespaces its stores take. */
export interface KeyNamespace {
  /** A fresh sub-namespace (a store's prefix), so no two stores see each other's keys. */
  next(): string;
  /** Deletes every key under the namespace: tag counters outlive `clear()` by design. */
  unlinkAll(url: string): Promise<void>;
}

/**
 * A namespace per file run (`label`, process id, start time): parallel runs against a shared
 * REDIS_URL never see each other's keys, and `unlinkAll` leaves that Redis as it was found.
 */
export function keyNamespace(label: string): KeyNamespace {
  const root = `strata-test:${label}:${process.pid}:${Date.now().toString(36)}`;
  let taken = 0;
  return {
    next: () => `${root}:${++taken}`,
    async unlinkAll(url) {
      const client = createClient({ url });
      await client.connect();
      for await (const batch of client.scanIterator({ MATCH: `${root}:*`, COUNT: 1000 })) {
        if (batch.length > 0) await client.unlink(batch);
      }
      await client.close();
    },
  };
}
