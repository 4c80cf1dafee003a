import { appendCacheStatus as append, type CacheStatusParams, cacheStatusMember } from '@strata/policy/protocol';

export { type CacheStatusParams, cacheStatusMember } from '@strata/policy/protocol';

/** Headers or a Map of them: what the server writes a Cache-Status into. */
interface HeaderMap {
  get(name: string): string | null | undefined;
  set(name: string, value: string): unknown;
}

/** Appends the server's member (`strata`) after any upstream ones: the cache nearest the user comes last (RFC 9211 §2). */
export function appendCacheStatus(headers: HeaderMap, params: CacheStatusParams): void {
  headers.set('cache-status', append(headers.get('cache-status'), cacheStatusMember('strata', params)));
}
