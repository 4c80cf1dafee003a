import { RecencyMap } from '../cache/recency-map.js';

/**
 * The L1's copy of tag versions: for each tag, the version the shared store last reported, kept
 * only while the purge log has said nothing newer about the tag. A purge of a tag makes it
 * unknown (the log carries no version numbers, only which tags changed); the next read that
 * needs it asks the shared store again.
 *
 * Every change is numbered (`seq`). A read of the shared store notes `seq` before it starts and
 * may teach the versions it got only if none of its tags changed meanwhile: an answer that left
 * the store before a purge arrived must not bring the purged version back. Entries removed by key
 * are numbered the same way, so a value read before its removal is not kept after it. The maps
 * are bounded (oldest first out); forgetting when a tag changed or an entry went raises `floor`,
 * which every forgotten one is assumed to have changed at, so a read in flight then is refused
 * rather than trusted.
 */
export class TagMirror {
  readonly #max: number;
  /** Known versions, oldest first. */
  readonly #known = new RecencyMap<number>();
  /** When each tag last became unknown (a `seq`), oldest first. */
  readonly #changed = new RecencyMap<number>();
  /** When each entry was last removed by key (a `seq`), oldest first. */
  readonly #removed = new RecencyMap<number>();
  #seq = 0;
  #floor = 0;

  constructor(maxTags: number) {
    this.#max = maxTags;
  }

  /** Changes so far: what a read notes before it asks the shared store. */
  get seq(): number {
    return this.#seq;
  }

  /** Tags whose version is known now. */
  get size(): number {
    return this.#known.size;
  }

  /** The versions of `tags`, in order, when every one is known; otherwise undefined. */
  versions(tags: readonly string[]): number[] | undefined {
    const out = new Array<number>(tags.length);
    for (let i = 0; i < tags.length; i++) {
      const version = this.#known.get(tags[i] as string);
      if (version === undefined) return undefined;
      out[i] = version;
    }
    return out;
  }

  /**
   * Records what a read that started at `since` got from the shared store, unless one of its tags
   * changed after `since`. Returns whether it was recorded.
   */
  learn(tags: readonly string[], versions: readonly number[], since: number): boolean {
    for (const tag of tags) if ((this.#changed.get(tag) ?? this.#floor) > since) return false;
    for (let i = 0; i < tags.length; i++) this.#known.set(tags[i] as string, versions[i] ?? 0);
    this.#bound(this.#known, false);
    return true;
  }

  /** The log says these tags changed: forget their versions, and refuse reads in flight. */
  invalidate(tags: readonly string[]): void {
    const at = ++this.#seq;
    for (const tag of tags) {
      this.#known.delete(tag);
      this.#changed.set(tag, at); // now the newest: the bound drops the oldest change first
    }
    this.#bound(this.#changed, true);
  }

  /** These entries were removed: a read of one that is in flight must not keep what it got. */
  remove(keys: readonly string[]): void {
    const at = ++this.#seq;
    for (const key of keys) this.#removed.set(key, at); // now the newest, as in `invalidate`
    this.#bound(this.#removed, true);
  }

  /** Whether the entry `key` was removed (or may have been) after a read that started at `since`. */
  removedSince(key: string, since: number): boolean {
    return (this.#removed.get(key) ?? this.#floor) > since;
  }

  /** Forgets every version and refuses every read in flight (a reset, a clear-all). */
  flush(): void {
    this.#floor = ++this.#seq;
    this.#known.clear();
    this.#changed.clear();
    this.#removed.clear();
  }

  #bound(map: RecencyMap<number>, raisesFloor: boolean): void {
    while (map.size > this.#max) {
      const [, value] = map.shift() as [string, number];
      if (raisesFloor) this.#floor = Math.max(this.#floor, value);
    }
  }
}
