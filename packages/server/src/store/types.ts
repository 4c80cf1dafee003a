/** What a read returns: the entry's bytes (if present) and the current version of each tag asked for. */
export interface StoreRead {
  value: Uint8Array | undefined;
  /**
   * Current versions, in the order of the `tags` argument; 0 for a tag never bumped (or long
   * gone) — or, in a store that bounds its counters, the floor its evicted counters folded into.
   */
  versions: number[];
  /**
   * The tier that answered, in a store of more than one: `MEMORY` when the in-process tier in
   * front of Redis did. Absent: the store's own `level`.
   */
  level?: string;
}

/**
 * A server-side cache backend. Values are opaque bytes; the cache above encodes responses and
 * data into them. Tags are plain version counters: bumping one makes every entry stored under
 * an older version a miss, whatever the number of entries (O(1) invalidation).
 *
 * Tag bookkeeping stays bounded: a tag's counter lives only as long as the longest-lived entry
 * written with it (plus a grace period covering writes still in flight), so tags of expired
 * entries disappear with them. A store may bound its counters further (the memory store does, by
 * its own limits) provided a purge of a tag whose counter it dropped still makes every entry
 * written before under that tag a miss.
 */
export interface Store {
  /** Backend name, reported in `X-Cache-Level` (`MEMORY`, `REDIS`) unless a read names its own tier (`StoreRead.level`). */
  readonly level: string;
  /** Whether other instances read the same data (Redis) or only this process (memory). */
  readonly shared: boolean;
  /**
   * Whether every operation runs in this process's memory, without I/O (the memory store): it
   * cannot hang, so `resilientStore` runs it without a per-operation timeout (failures still
   * count toward the breaker). Default false.
   */
  readonly inProcess?: boolean;
  /** Reads an entry and the current versions of `tags` in one round trip. */
  read(key: string, tags: readonly string[]): Promise<StoreRead>;
  /**
   * `read`, answered at once from this process's memory, or undefined when only `read` can answer
   * (the L1 does not hold the entry, say). Lets a fresh hit skip every promise. Stores with I/O
   * alone leave it out.
   */
  peek?(key: string, tags: readonly string[]): StoreRead | undefined;
  /** Stores an entry for `ttlSeconds`; keeps each tag's counter alive at least that long. */
  write(key: string, value: Uint8Array, ttlSeconds: number, tags: readonly string[]): Promise<void>;
  /** Current version of each tag. */
  versions(tags: readonly string[]): Promise<number[]>;
  /** Increments each tag's version, atomically per tag; returns the new versions. */
  bump(tags: readonly string[]): Promise<number[]>;
  /**
   * A soft purge: increments each tag's version as `bump` does, and records that the new version
   * came from a soft purge at `at` (ms since the epoch), and since which version every bump of the
   * tag has been soft, from when. Entries behind only soft bumps stay readable as stale (see
   * `softMarks`). A store without it gets `bump`: a soft purge then acts as a hard one.
   */
  softBump?(tags: readonly string[], at: number): Promise<number[]>;
  /**
   * For each tag, when the soft purges that took it from version `from[i]` to `to[i]` began (ms):
   * the time of the first of them, or of an earlier one where the store keeps only the start of a
   * run of soft purges (an earlier time is the safe side: a shorter stale window). 0 when a hard
   * bump is among them or the record is gone. Only asked for tags an entry is behind on, so it
   * costs a round trip only on reads a purge has already made misses.
   */
  softMarks?(tags: readonly string[], from: readonly number[], to: readonly number[]): Promise<number[]>;
  /** Deletes entries; resolves to how many existed. */
  delete(keys: readonly string[]): Promise<number>;
  /** Entry keys matching a glob (`*`, `?`), at most `limit` of them. */
  keys(pattern: string, limit: number): Promise<string[]>;
  /** Drops every entry in this store's namespace (tag counters expire on their own). */
  clear(): Promise<void>;
  /** Entry count and stored bytes, as far as the backend can tell. */
  size(): Promise<{ entries: number; bytes: number }>;
  close(): Promise<void>;
  /**
   * While the store's first connection is opening, a promise that settles (never rejects) once it
   * is open or has failed; otherwise undefined. Operations issued meanwhile wait for it instead of
   * timing out. Stores with nothing to open leave it out.
   */
  ready?(): Promise<void> | undefined;
  /**
   * Takes the lease `name` for `ttlMs` if nobody holds it: resolves to the holder's token, or
   * undefined when another holds it. Shared stores only; it serves cross-instance single flight.
   */
  lease?(name: string, ttlMs: number): Promise<string | undefined>;
  /** Gives back a lease taken with `token` (a lease that expired and was taken since is left alone). */
  unlease?(name: string, token: string): Promise<void>;
}

/** How long a tag counter outlives the entries written with it, covering origin fetches in flight. */
export const TAG_GRACE_SECONDS = 600;
