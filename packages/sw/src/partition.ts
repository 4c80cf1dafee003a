/**
 * Cache names and the current user. Every cache is named `prefix:version:partition`, the version
 * and the user percent-encoded so the separator never occurs inside them:
 *
 *   strata:3:public          responses of public policies
 *   strata:3:credential      responses of public policies that vary on a credential header
 *   strata:3:user:alice      responses of private policies while alice is the user
 *
 * A separate cache per partition puts the partition in the cache key: a lookup in bob's cache
 * cannot find alice's entry. The user and credential caches hold one person's data: a user change
 * or a logout drops them whole (`identity.ts`). The user lives in memory for the hit path and in
 * IndexedDB so a restarted worker knows it; until that one read is done, and while a user change
 * is dropping the previous user's caches, private and credential-varied requests wait.
 */
export const PUBLIC = 'public';
export const CREDENTIAL = 'credential';

export const userPartition = (user: string): string => `user:${encodeURIComponent(user)}`;

export class Partitions {
  readonly prefix: string;
  /** `strata:3:`: every cache of this version starts with it. */
  readonly current: string;
  /** Settles once the persisted user is loaded (or failed to load). */
  readonly ready: Promise<void>;
  #user: string | null = null;
  #set = false;
  #change: Promise<unknown> = Promise.resolve();

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

  /** Settles once the user is loaded and no user change is dropping caches. */
  settled(): Promise<unknown> {
    return Promise.all([this.ready, this.#change]);
  }

  /** A user change in progress: `settled` waits for it. It must never reject. */
  changing(change: Promise<unknown>): void {
    this.#change = change;
  }

  /** The cache of a partition in this version. */
  cacheOf(partition: string): string {
    return this.current + partition;
  }

  /**
   * The partition for a policy now; undefined for a private policy with no user: not cached.
   * A public policy varying on a credential header goes to the credential cache.
   */
  partitionFor(scope: 'public' | 'private' | undefined, credentialed?: boolean): string | undefined {
    if (scope === 'private') return this.#user === null ? undefined : userPartition(this.#user);
    return credentialed ? CREDENTIAL : PUBLIC;
  }

  /** Whether a cache of this version is the partition of a user other than the current one. */
  isOtherUser(cache: string): boolean {
    return (
      cache.startsWith(this.cacheOf(userPartition(''))) &&
      this.partitionFor('private') !== cache.slice(this.current.length)
    );
  }

  /** Whether a cache of this version holds one person's data: a user's, or the credential cache. */
  isPersonal(cache: string): boolean {
    return cache.startsWith(this.cacheOf(userPartition(''))) || cache === this.cacheOf(CREDENTIAL);
  }

  /** Whether a cache is Strata's, of any version, under this prefix. */
  owns(cache: string): boolean {
    return cache.startsWith(this.prefix);
  }

  isCurrent(cache: string): boolean {
    return cache.startsWith(this.current);
  }
}
