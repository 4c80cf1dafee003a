import { appendCacheStatus } from './cache-status.js';

/**
 * What a stored entry carries besides the origin's response. Cache Storage keeps no metadata
 * (SW spec §5.2; STANDARDS.md §5) and the hit path must not wait on IndexedDB, so everything a
 * hit needs travels in one header of the stored copy, `x-strata: <stored-at> <partition> <tags…>`
 * (tags and partitions never hold spaces): one `caches.match` answers a request. The page never
 * sees the header; `serve` strips it.
 */
export const META = 'x-strata';

export interface EntryMeta {
  /** When the worker stored it (ms since the epoch, the worker's clock). */
  storedAt: number;
  /** `public` or the user partition. */
  partition: string;
  tags: readonly string[];
  /** Request headers the cache key splits on (the policy's `vary`), merged into the stored Vary. */
  vary: readonly string[];
}

// Fetch §2.2.3: a null body status cannot be given a body, not even an empty stream.
const NULL_BODY = [101, 103, 204, 205, 304];

function copy(response: Response, edit: (headers: Headers) => void, body = response.body): Response {
  const headers = new Headers(response.headers);
  edit(headers);
  const init = { status: response.status, statusText: response.statusText, headers };
  return new Response(NULL_BODY.includes(response.status) ? null : body, init);
}

/** Whether a network response may be stored: a 200, not opaque, no `Vary: *`, no `no-store`. */
export function isStorable(response: Response): boolean {
  const { headers } = response;
  return (
    response.status === 200 &&
    !response.type.startsWith('opaque') &&
    // Cache.put rejects `Vary: *` (SW spec §5.4.6); an explicit no-store from the origin wins over the manifest.
    !varyNames(headers.get('vary')).includes('*') &&
    !/(^|,)\s*no-store\s*(,|$)/i.test(headers.get('cache-control') ?? '')
  );
}

/** Lower-case header names in a Vary value. */
export function varyNames(value: string | null): string[] {
  return value ? value.split(',').flatMap((name) => name.trim().toLowerCase() || []) : [];
}

/** The copy that goes into Cache Storage, stamped with its metadata. Consumes `response`'s body. */
export function stamp(response: Response, meta: EntryMeta): Response {
  return copy(response, (headers) => {
    headers.set(META, [meta.storedAt, meta.partition, ...meta.tags].join(' '));
    // RFC 9110 §12.5.5: Vary extends the cache key. Cache Storage only splits on the response's Vary,
    // so the policy's vary must be in it even when the origin forgot to send it.
    const vary = varyNames(headers.get('vary'));
    const names = [...vary, ...meta.vary.filter((name) => !vary.includes(name))];
    if (names.length > 0) headers.set('vary', names.join(', '));
  });
}

/** The stored-at time of an entry, or undefined when it is not an entry of `partition`. */
export function storedAtOf(cached: Response, partition: string): number | undefined {
  const [at, owner] = (cached.headers.get(META) ?? '').split(' ');
  const storedAt = Number(at);
  return owner === partition && storedAt > 0 ? storedAt : undefined;
}

/**
 * The Cache Storage key of a request: the request itself, or for a policy with `vary`, the URL
 * with the varied header values appended. Chromium's `Cache.put` replaces every entry of a URL
 * whatever their Vary (the SW spec, §5.4 Batch Cache Operations, replaces only the Vary-matching
 * ones), so variants live under distinct key URLs. The request's headers still go along, so a Vary
 * the origin sends for other headers is honoured on lookup too.
 */
export function cacheKey(request: Request, vary: readonly string[], head: boolean): Request {
  if (vary.length === 0 && !head) return request;
  const url = new URL(request.url);
  url.hash = '';
  if (vary.length > 0) url.searchParams.append('strata-vary', JSON.stringify(vary.map((h) => request.headers.get(h))));
  return new Request(url, { headers: request.headers });
}

/**
 * Fields a server cache sets to say how it answered one request (`X-Cache: MISS`,
 * `X-Cache-Level: MEMORY`). Stored with the entry, they would describe the request that filled it,
 * not the answer the worker gives now; Cache-Status keeps every layer's member instead.
 */
const UPSTREAM_VERDICTS = ['x-cache', 'x-cache-level'];

/**
 * The page's response from a stored entry: metadata and upstream verdicts stripped, Age set,
 * `member` appended to Cache-Status.
 */
export function serve(cached: Response, member: string, residentMs: number, head: boolean): Response {
  return copy(
    cached,
    (headers) => {
      headers.delete(META);
      for (const name of UPSTREAM_VERDICTS) headers.delete(name);
      // RFC 9111 §4.2.3, §5.1: a cache sends Age on a stored response, replacing the value it received
      // with that value plus the time the response has been resident here.
      const upstream = Number.parseInt(headers.get('age') ?? '', 10) || 0;
      headers.set('age', String(upstream + Math.max(0, Math.floor(residentMs / 1000))));
      // RFC 9211 §2: the upstream members stay, in order; this cache's member goes last.
      headers.set('cache-status', appendCacheStatus(headers.get('cache-status'), member));
    },
    head ? null : cached.body,
  );
}

/** A network response with `member` appended to its Cache-Status. Consumes `response`'s body. */
export function annotate(response: Response, member: string): Response {
  if (response.type.startsWith('opaque')) return response;
  return copy(response, (headers) =>
    headers.set('cache-status', appendCacheStatus(headers.get('cache-status'), member)),
  );
}
