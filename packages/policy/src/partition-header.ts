/**
 * `Strata-Partition: <hex SHA-256 of the partition id>`: set by the server on a private answer
 * that has a partition, so a service worker can refuse to store that answer under another user
 * (a cookie session the worker cannot see, a stale `setUser`). The id itself never travels, but
 * the hash is a pseudonym, not a secret: it is unkeyed (the worker computes it from `setUser`), so
 * whoever reads the header can test guesses, and a guessable id (a small number, a user name) is
 * recovered at once. Use ids that are not guessable where response headers are seen by others.
 */
export const PARTITION_HEADER = 'strata-partition';

/** Lower-case hex SHA-256 of a string's UTF-8 bytes (Web Crypto: browsers, workers, Node ≥ 19). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The `Strata-Partition` value naming a partition id. */
export const partitionHash: (partition: string) => Promise<string> = sha256Hex;
