import { partitionHash } from '@strata/policy';

/**
 * What `partition` reads of a request: its method, absolute URL and header fields. A Web `Request`
 * satisfies it; the node, Express and Fastify adapters pass a view of the incoming message instead
 * when they try a fresh hit without building a Request.
 */
export interface PartitionRequest {
  readonly method: string;
  /** The absolute URL, as `Request.url`. */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
}

/** The `partition` option: the user a request belongs to, or undefined for none. */
export type PartitionOf = (request: PartitionRequest) => string | undefined | Promise<string | undefined>;

// Hashed once per partition, not per private answer. Cleared whole when full, which keeps it O(1).
const hashes = new Map<string, string>();
const MAX_HASHES = 10_000;

/** `Strata-Partition`'s value for `partition` (hex SHA-256), from a bounded memo. */
export async function partitionName(partition: string): Promise<string> {
  const known = hashes.get(partition);
  if (known !== undefined) return known;
  const hash = await partitionHash(partition);
  if (hashes.size >= MAX_HASHES) hashes.clear();
  hashes.set(partition, hash);
  return hash;
}
