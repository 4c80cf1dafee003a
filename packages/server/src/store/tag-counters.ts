import { RecencyMap } from '../cache/recency-map.js';

export interface TagCountersOptions {
  /** Most counters kept; the least recently used beyond that fold into the floor. */
  maxTags: number;
  /** Most characters of tag names kept, summed over the counters; same eviction. */
  maxTagChars: number;
  now: () => number;
}

interface Counter {
  version: number;
  /** When no entry written with this tag can still be alive (ms). */
  expiresAt: number;
  /** The soft purges that made `version` (see `SoftRun`); a later hard bump leaves it naming an older version. */
  soft?: SoftRun;
}

/**
 * A run of soft purges of one tag: every bump from version `from` to `version` was soft, the
 * first at `fromAt` (ms), the last at `at`.
 */
export interface SoftRun {
  from: number;
  fromAt: number;
  version: number;
  at: number;
}

/** The run after a soft bump at `at` to `version`: `previous` goes on when it made the version just before. */
export function nextRun(previous: SoftRun | undefined, version: number, at: number): SoftRun {
  const goesOn = previous !== undefined && previous.version === version - 1;
  return goesOn ? { ...previous, version, at } : { from: version - 1, fromAt: at, version, at };
}

/** When the soft purges from version `from` to `to` began (see `Store.softMarks`), or 0. */
export function softSince(run: SoftRun | undefined, from: number, to: number): number {
  if (!run || run.version !== to || from < run.from || from >= to) return 0;
  return from === to - 1 ? run.at : run.fromAt;
}

/**
 * The memory store's tag version counters, bounded in count and in name characters.
 *
 * A counter is kept while entries written with its tag may be alive (their TTL plus a grace
 * period covering writes still in flight). Beyond the bounds, the least recently used counter is
 * evicted and its version folds into a store-wide floor: a tag without a counter reads as the
 * floor, and a bump of it starts above the floor. The floor is at least every version ever
 * handed out for an evicted tag, so an entry written under an evicted counter's version can
 * never match again after a purge (it is at worst a spurious miss, never a stale hit).
 */
export class TagCounters {
  readonly #o: TagCountersOptions;
  readonly #counters = new RecencyMap<Counter>();
  #chars = 0;
  #floor = 0;
  #sweepAt = 1024;

  constructor(options: TagCountersOptions) {
    this.#o = options;
  }

  /** Counters held now (for tests and stats). */
  get size(): number {
    return this.#counters.size;
  }

  /** Characters of tag names held now. */
  get chars(): number {
    return this.#chars;
  }

  /** The version every tag without a counter reads as. */
  get floor(): number {
    return this.#floor;
  }

  /** The current versions of `tags`, read at one instant; a read keeps their counters recently used. */
  versions(tags: readonly string[]): number[] {
    const t = this.#o.now();
    const out = new Array<number>(tags.length);
    for (let i = 0; i < tags.length; i++) out[i] = this.#read(tags[i] as string, t);
    return out;
  }

  /** One lookup: the counter becomes the most recent, or goes if it has expired at `t`. */
  #read(tag: string, t: number): number {
    return this.#unexpired(tag, this.#counters.touch(tag), t)?.version ?? this.#floor;
  }

  /**
   * Keeps a counter alive until `until` (ms) at least, bumping it first if asked (`softAt`: a soft
   * purge at that time made the new version); returns its version.
   */
  keep(tag: string, until: number, bump: boolean, softAt?: number): number {
    const alive = this.#live(tag);
    const next: Counter = {
      version: (alive?.version ?? this.#floor) + (bump ? 1 : 0),
      expiresAt: Math.max(alive?.expiresAt ?? 0, until),
    };
    const soft = bump && softAt !== undefined ? nextRun(alive?.soft, next.version, softAt) : alive?.soft;
    if (soft) next.soft = soft;
    if (!alive) this.#chars += tag.length;
    this.#counters.set(tag, next);
    this.#bound();
    return next.version;
  }

  /** When the soft purges of `tag` from version `from` to `to` began (ms), or 0 (a hard bump among them, or forgotten). */
  softMark(tag: string, from: number, to: number): number {
    return softSince(this.#live(tag)?.soft, from, to);
  }

  /** Drops expired counters once the map has doubled since the last sweep: amortized O(1). */
  sweep(): void {
    if (this.#counters.size < this.#sweepAt) return;
    const t = this.#o.now();
    for (const [tag, counter] of this.#counters) if (counter.expiresAt <= t) this.#remove(tag);
    this.#sweepAt = Math.max(1024, this.#counters.size * 2);
  }

  clear(): void {
    this.#counters.clear();
    this.#chars = 0;
  }

  #live(tag: string): Counter | undefined {
    return this.#unexpired(tag, this.#counters.get(tag), this.#o.now());
  }

  /** `tag`'s counter, already looked up, unless it has expired at `t`: then it goes. */
  #unexpired(tag: string, counter: Counter | undefined, t: number): Counter | undefined {
    if (!counter) return undefined;
    // An expired counter outlived every entry written under it (and the grace): nothing can
    // match its versions any more, so it goes without raising the floor.
    if (counter.expiresAt > t) return counter;
    this.#remove(tag);
    return undefined;
  }

  #remove(tag: string): void {
    if (this.#counters.delete(tag)) this.#chars -= tag.length;
  }

  #bound(): void {
    while (this.#counters.size > this.#o.maxTags || (this.#chars > this.#o.maxTagChars && this.#counters.size > 1)) {
      const [oldest, counter] = this.#counters.shift() as [string, Counter];
      this.#chars -= oldest.length;
      // Entries written under this counter may still be alive: the floor keeps them from
      // matching a purge's recreated counter (see the class comment).
      if (counter.expiresAt > this.#o.now()) this.#floor = Math.max(this.#floor, counter.version);
    }
  }
}
