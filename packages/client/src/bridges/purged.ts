import type { AppliedPurge, AppliedReset, StrataClient } from '../client.js';

/** What a data cache entry is, for the bridges: the purge tags it depends on and its URL. */
export interface Described {
  tags: readonly string[];
  /** The URL (or path) it was fetched from, for purges by key. */
  url: string | undefined;
}

/**
 * Whether `purge` names an entry: one of its tags, or its URL (a key with a query names that URL,
 * one without names every query of the path, as in the worker).
 */
export function names(purge: AppliedPurge, { tags, url }: Described): boolean {
  if (tags.some((tag) => purge.tags.includes(tag))) return true;
  if (url === undefined || !URL.canParse(url, location.href)) return false;
  const target = new URL(url, location.href);
  return purge.keys.some((key) => {
    if (!URL.canParse(key, location.href)) return false;
    const named = new URL(key, location.href);
    if (named.origin !== target.origin || named.pathname !== target.pathname) return false;
    return named.search === '' || named.search === target.search;
  });
}

/** Purge ids a bridge remembers, so one purge acts once even if told twice. */
const REMEMBERED = 256;

/**
 * Calls `onPurge` once per purge id (and `onReset` per reset) the page's client emits — each tab's
 * client emits each purge once, whichever tab holds the stream. Returns the unsubscribe.
 */
export function onEachPurge(
  strata: StrataClient,
  onPurge: (purge: AppliedPurge) => void,
  onReset: (reset: AppliedReset) => void,
): () => void {
  const seen = new Set<string>();
  const first = (id: string): boolean => {
    if (id === '') return true;
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > REMEMBERED) seen.delete(seen.values().next().value as string);
    return true;
  };
  const offPurge = strata.on('purge', (purge) => first(purge.id) && onPurge(purge));
  const offReset = strata.on('reset', (reset) => first(reset.id) && onReset(reset));
  return () => {
    offPurge();
    offReset();
  };
}

/**
 * A bridge: for each purge (once per id), `invalidate` with a filter over the data cache's entries
 * that picks those the purge names; for a reset, every entry that names a tag or a URL.
 */
export function bridgePurges<Entry>(
  strata: StrataClient,
  describe: (entry: Entry) => Described,
  invalidate: (matches: (entry: Entry) => boolean) => void,
): () => void {
  return onEachPurge(
    strata,
    (purge) => invalidate((entry) => names(purge, describe(entry))),
    () =>
      invalidate((entry) => {
        const { tags, url } = describe(entry);
        return tags.length > 0 || url !== undefined;
      }),
  );
}
