import { createClient } from 'redis';

// What the two purge benchmarks share (purge-latency: purge to SSE clients; purge-e2e: purge to
// the worker of a page): the aim they test, their warm-up, and their Redis Pub/Sub baseline.

/** The aim: a purge on one instance takes effect on the other side within 50 ms at p99. */
export const AIM_MS = 50;
/** Purges sent, and not measured, before the measured ones. */
export const WARMUP = 5;
/** The baseline case: a bare Redis Pub/Sub message to a subscriber in its own process (a case name: keep it). */
export const BASELINE = 'redis pub/sub (bare)';

export type Redis = ReturnType<typeof createClient>;

/**
 * A publisher and a subscriber connection to the Redis at `url`, both connected; each one's
 * close is handed to `cleanup` as soon as it is open.
 */
export async function pubSubPair(
  url: string,
  cleanup: (close: () => Promise<unknown>) => void,
): Promise<{ pub: Redis; sub: Redis }> {
  const pub: Redis = createClient({ url });
  pub.on('error', () => {});
  await pub.connect();
  cleanup(() => pub.close());
  const sub: Redis = pub.duplicate();
  sub.on('error', () => {});
  await sub.connect();
  cleanup(() => sub.close());
  return { pub, sub };
}
