import type { Partitions } from './partition.js';
import { userPartition } from './partition.js';
import type { Evictor } from './purge.js';
import type { TagIndex } from './tag-index.js';

export interface IdentityDeps {
  caches: CacheStorage;
  partitions: Partitions;
  index: Pick<TagIndex, 'setMeta'>;
  evictor: Pick<Evictor, 'dropCache'>;
}

/**
 * Who is signed in, and the rule that only their data exists in the browser: a user change or a
 * logout drops every personal cache (each user's partition and the credential-varied entries)
 * before the message is acknowledged. Changes run one at a time; private and credential-varied
 * requests arriving meanwhile wait for the drop (`Partitions.settled`). The next person on the
 * same browser, or any later script of the origin, reads Cache Storage and IndexedDB directly,
 * so data at rest is what must go (docs/threat-model.md).
 */
export class Identity {
  readonly #deps: IdentityDeps;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: IdentityDeps) {
    this.#deps = deps;
  }

  /** Sets the user; another user than the current one drops every personal cache first. */
  setUser(user: string | null): Promise<number> {
    return this.#run(async () => {
      const { partitions } = this.#deps;
      await partitions.ready;
      if (partitions.user === user) return 0;
      return this.#switch(user);
    });
  }

  /**
   * Logs `user` out (default: the current user): the current user is unset and every personal
   * cache dropped; another user's leftover partition is dropped alone. Resolves with the entries evicted.
   */
  logout(user?: string | null): Promise<number> {
    return this.#run(async () => {
      const { partitions, evictor } = this.#deps;
      await partitions.ready;
      if (user === undefined || user === null || user === partitions.user) return this.#switch(null);
      return evictor.dropCache(partitions.cacheOf(userPartition(user)));
    });
  }

  async #switch(user: string | null): Promise<number> {
    const { partitions, caches, index, evictor } = this.#deps;
    // The new user first, so requests that wait for this change then look in their own partition.
    partitions.user = user;
    await index.setMeta('user', user);
    let evicted = 0;
    for (const name of await caches.keys()) {
      if (partitions.isPersonal(name)) evicted += await evictor.dropCache(name);
    }
    return evicted;
  }

  #run(change: () => Promise<number>): Promise<number> {
    const run = this.#queue.then(change);
    this.#queue = run.catch(() => undefined);
    this.#deps.partitions.changing(this.#queue);
    return run;
  }
}
