/**
 * Purge epochs: the guard that keeps a purged entry from coming back (docs/http-rules.md#pitfalls, item 17).
 *
 * A network fetch that will be stored takes a ticket when it starts. A purge bumps the epoch of
 * every name it concerns (tags, paths, a partition, or everything tagged). Before the write, and
 * again after it, the writer asks whether any name of its entry was bumped since the ticket was
 * taken; if so, the response predates the purge and is not kept.
 *
 * Names are plain strings chosen by the caller (see `entryNames`). Epochs live in memory: a
 * fetch cannot outlive the worker that started it, and marks older than every open ticket can
 * never matter, so they are dropped whenever no ticket is open.
 */
export interface Ticket {
  /** The clock when the fetch started. */
  readonly since: number;
  /** Releases the ticket; idempotent. */
  end(): void;
}

export class Epochs {
  #clock = 0;
  #open = 0;
  #marks = new Map<string, number>();

  begin(): Ticket {
    this.#open++;
    let ended = false;
    return {
      since: this.#clock,
      end: () => {
        if (ended) return;
        ended = true;
        if (--this.#open === 0) this.#marks.clear();
      },
    };
  }

  /** Marks every name as purged now. */
  bump(names: Iterable<string>): void {
    const now = ++this.#clock;
    if (this.#open === 0) return; // nothing in flight can be affected
    for (const name of names) this.#marks.set(name, now);
  }

  /** Whether any of `names` was purged after `ticket` was taken. */
  changed(ticket: Ticket, names: Iterable<string>): boolean {
    for (const name of names) if ((this.#marks.get(name) ?? 0) > ticket.since) return true;
    return false;
  }

  /** Marks held (for tests and leak checks). */
  get size(): number {
    return this.#marks.size;
  }
}

/** Epoch names of one entry. */
export const EVERYTHING_TAGGED = '*';
export const tagName = (tag: string): string => `tag:${tag}`;
export const pathName = (path: string): string => `path:${path}`;
export const cacheName = (cache: string): string => `cache:${cache}`;

export function entryNames(tags: readonly string[], path: string, cache: string): string[] {
  const names = [...tags.map(tagName), pathName(path), cacheName(cache)];
  if (tags.length > 0) names.push(EVERYTHING_TAGGED);
  return names;
}
