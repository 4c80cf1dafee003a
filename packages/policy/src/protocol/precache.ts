/** One file a build precaches: its URL and a digest of its content. */
export interface PrecacheEntry {
  url: string;
  revision: string;
}

/**
 * What a build hands its service worker to precache (the Vite plugin writes it, the worker's
 * `installPrecache` reads it): the deploy's files, and an id that changes whenever one does.
 */
export interface Precache {
  id: string;
  entries: readonly PrecacheEntry[];
}
