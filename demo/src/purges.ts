import type { StrataClient } from '@strata/client';

/** A purge or reset this browser applied, as the cache dashboard lists it. */
export interface AppliedPurge {
  kind: 'purge' | 'reset';
  id: string;
  tags: string[];
  keys: string[];
  /** Entries the service worker evicted. */
  evicted: number;
  at: Date;
}

export interface PurgeLog {
  /** Newest first. */
  entries(): readonly AppliedPurge[];
  /** Called with each purge as it is applied; returns an unsubscribe function. */
  subscribe(listener: (purge: AppliedPurge) => void): () => void;
  /** Resolves when a purge naming `tag` is applied, or after `timeoutMs`, whichever comes first. */
  seen(tag: string, timeoutMs: number): Promise<void>;
}

const KEPT = 50;

/** Every purge this page saw since it loaded, from the client's `purge` and `reset` events. */
export function purgeLog(client: StrataClient): PurgeLog {
  const entries: AppliedPurge[] = [];
  const listeners = new Set<(purge: AppliedPurge) => void>();
  const add = (purge: AppliedPurge) => {
    entries.unshift(purge);
    entries.length = Math.min(entries.length, KEPT);
    for (const listener of listeners) listener(purge);
  };
  client.on('purge', (e) =>
    add({ kind: 'purge', id: e.id, tags: e.tags, keys: e.keys, evicted: e.evicted, at: new Date() }),
  );
  client.on('reset', (e) => add({ kind: 'reset', id: e.id, tags: [], keys: [], evicted: e.evicted, at: new Date() }));
  const subscribe = (listener: (purge: AppliedPurge) => void) => {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  return {
    entries: () => entries,
    subscribe,
    seen(tag, timeoutMs) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          unsubscribe();
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        const unsubscribe = subscribe((purge) => {
          if (purge.kind === 'reset' || purge.tags.includes(tag)) done();
        });
      });
    },
  };
}
