/**
 * Cache names and the current user. Every cache is named `prefix:version:partition`, the version
 * and the user percent-encoded so the separator never occurs inside them:
 *
 *   strata:3:public          responses of public policies
 *   strata:3:user:alice      responses of private policies while alice is the user
 *
 * A separate cache per partition puts the partition in the cache key: a lookup in bob's cache
 * cannot find alice's entry. The user lives in memory for the hit path and in IndexedDB so a
 * restarted worker knows it; until that one read is done, only private requests wait on it.
 */
export const PUBLIC = 'public';

export const userPartition = (user: string): string => `user:${encodeURIComponent(user)}`;

export class Partitions {
  readonly prefix: string;
  /** `strata:3:`: every cache of this version starts with it. */
  readonly current: string;
  /** Settles once the persisted user is loaded (or failed to load). */
  readonly ready: Promise<void>;
  #user: string | null = null;
  #set = false;

  constructor(prefix: string, version: string, load: () => Promise<unknown>) {
    this.prefix = `${prefix}:`;
    this.current = `${this.prefix}${encodeURIComponent(version)}:`;
    this.ready = load().then(
      (user) => {
        // A set-user that arrived while loading is newer than what was persisted.
        if (!this.#set && typeof user === 'string') this.#user = user;
      },
      () => undefined,
    );
  }

  get user(): string | null {
    return this.#user;
  }

  set user(user: string | null) {
    this.#set = true;
    this.#user = user;
  }

  /** The cache of a partition in this version. */
  cacheOf(partition: string): string {
    return this.current + partition;
  }

  /** The partition for a policy scope now; undefined for a private policy with no user: not cached. */
  partitionFor(scope: 'public' | 'private' | undefined): string | undefined {
    if (scope !== 'private') return PUBLIC;
    return this.#user === null ? undefined : userPartition(this.#user);
  }

  /** Whether a cache is Strata's, of any version, under this prefix. */
  owns(cache: string): boolean {
    return cache.startsWith(this.prefix);
  }

  isCurrent(cache: string): boolean {
    return cache.startsWith(this.current);
  }
}
