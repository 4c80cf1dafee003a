import { type RouteMatch, servesStaleOnError } from '@strata/policy';
import { boundWindows, windowsFor } from '@strata/policy/protocol';
import { bodyResponse } from '../held-body.js';
import { jsonError } from '../http.js';
import type { Outcome, Stats } from '../stats.js';
import type { ResilientStore } from '../store/resilient.js';
import { readBody } from './body.js';
import { etagFor, ifNoneMatchMatches, NOT_MODIFIED_FIELDS, UNSTORED_FIELDS } from './conditional.js';
import { type Entry, pairs } from './entry.js';
import { HitBlocks as Blocks, type HitBlocks, type HitHeaders } from './hit-block.js';
import { mutable } from './policy-headers.js';
import type { SharedFlightSettings } from './shared-flight.js';
import { isOriginTimeout } from './single-flight.js';
import { appendCacheStatus, type CacheStatusParams } from './status.js';
import { freshness, TaggedCache, type TaggedRead } from './tagged-cache.js';

export type Next = (request: Request) => Response | Promise<Response>;

/** One request's place in the server cache. */
export interface Lookup {
  match: RouteMatch;
  key: string;
  /** The route's tags plus the URL's implicit tag. */
  tags: string[];
  /** The partition for private policies. */
  partition: string | undefined;
  /** Seconds a 4xx/5xx answer may be kept, stale windows included (the manifest's `defaults.negativeTtl`). */
  negativeTtl: number;
}

export interface ResponseCacheOptions {
  store: ResilientStore;
  stats: Stats;
  now: () => number;
  maxBodyBytes: number;
  cacheableStatuses: ReadonlySet<number>;
  /** Background work (revalidations) is tracked so `close()` can wait for it. */
  track: (work: Promise<unknown>) => void;
  /** True when purges waiting for the store name the entry (see `TaggedCacheOptions.bypass`): go to the origin. */
  bypass: (tags: readonly string[], storedAt?: number) => boolean;
  /** How long a miss waits for the origin before its callers get stale-if-error or a 504. Default: no limit. */
  originTimeoutMs?: number;
  /** Cross-instance single flight for misses (see `StrataOptions.sharedFlight`). Default: off. */
  sharedFlight?: SharedFlightSettings | undefined;
}

/** What a load gave: an entry (`shared`: the one another instance's load stored), or a response not kept. */
type Fetched = { entry: Entry; stored: boolean; shared?: boolean } | { response: Response };

/**
 * A response served from the cache, as plain data: `fields` is the flat `[name, value, …]` list
 * `ServerResponse.writeHead` takes, names lower-case. Shared between hits: never written to.
 */
export interface StoredAnswer {
  status: number;
  fields: readonly string[];
  body: Uint8Array | null;
}

// The origin gets a plain GET: a conditional one could answer 304, which cannot be stored.
// Conditions are evaluated here against the stored entry instead.
const CONDITIONAL_FIELDS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'];

function originRequest(request: Request): Request {
  const headers = new Headers(request.headers);
  for (const field of CONDITIONAL_FIELDS) headers.delete(field);
  // No signal: the fetch may be shared by collapsed requests or run in the background, so one
  // client going away must not abort it for the others.
  return new Request(request.url, { method: 'GET', headers });
}

/**
 * The server-side response cache: fresh hits, stale-while-revalidate, stale-if-error,
 * single-flight misses, conditional hits, and fail-open on store trouble.
 */
export class ResponseCache {
  readonly #o: ResponseCacheOptions;
  readonly #core: TaggedCache<Fetched>;
  readonly #blocks: HitBlocks = new Blocks();

  constructor(options: ResponseCacheOptions) {
    this.#o = options;
    this.#core = new TaggedCache<Fetched>(options);
  }

  async serve(request: Request, lookup: Lookup, next: Next): Promise<Response> {
    const { stats } = this.#o;
    const route = lookup.match.route.match;
    const read = await this.#core.read(lookup.key, lookup.tags);
    if (read.kind !== 'read') {
      if (read.kind === 'unavailable') stats.storeErrors++;
      return this.#bypass(request, route, next, read.kind === 'bypass' ? 'purge-pending' : 'store-unavailable');
    }
    const { entry, versions, level } = read;

    if (entry) {
      const age = this.#core.age(entry);
      const state = freshness(entry, age);
      if (state === 'fresh') {
        return this.#fromEntry(request, entry, route, 'hit', { hit: true, ttl: entry.ttl - age }, level);
      }
      if (state === 'stale-while-revalidate') {
        this.#core.refresh(
          lookup.key,
          versions,
          () => this.#fetch(request, lookup, versions, next),
          (fetched) => ('response' in fetched ? fetched.response.body?.cancel() : undefined),
        );
        const detail = read.soft ? 'soft-purge' : 'stale-while-revalidate';
        return this.#fromEntry(request, entry, route, 'stale', { hit: true, ttl: entry.ttl - age, detail }, level);
      }
    }
    if (request.method === 'HEAD') {
      // A HEAD miss is answered by the origin and not stored: it has no body to keep.
      stats.record(route, 'miss');
      stats.originCall(route);
      return this.#decorate(mutable(await next(request)), 'MISS', { fwd: 'method' });
    }

    const canFallBack = entry !== undefined && freshness(entry, this.#core.age(entry)) === 'stale-if-error';
    let fetched: Fetched;
    let collapsed = false;
    try {
      const flight = this.#core.load(lookup.key, versions, () => this.#fetch(request, lookup, versions, next), {
        tags: lookup.tags,
        adopt: (found) => ({ entry: found, stored: false, shared: true }),
      });
      collapsed = !flight.leader;
      fetched = await flight.promise;
      // Another instance's load answered it: this read waited for that call, as a collapsed one does.
      if ('shared' in fetched && fetched.shared) collapsed = true;
    } catch (error) {
      if (entry && canFallBack) return this.#errorFallback(request, entry, route, level);
      if (!isOriginTimeout(error)) throw error;
      // RFC 9110 §15.6.5: the origin did not answer in time.
      stats.record(route, collapsed ? 'collapsed' : 'miss');
      const timedOut = jsonError('E_ORIGIN_TIMEOUT', (error as Error).message);
      const fwd = entry ? 'stale' : 'uri-miss';
      return this.#decorate(timedOut, 'MISS', { fwd, collapsed, detail: 'origin-timeout' });
    }

    if ('response' in fetched) {
      if (entry && canFallBack && servesStaleOnError(fetched.response.status)) {
        await fetched.response.body?.cancel();
        return this.#errorFallback(request, entry, route, level);
      }
      // Not shareable (too large, or not storable and already consumed by the leader): waiters ask
      // the origin themselves, so each is a miss of its own.
      if (collapsed) stats.originCall(route);
      const response = collapsed ? mutable(await next(originRequest(request))) : fetched.response;
      stats.record(route, 'miss');
      return this.#decorate(response, 'MISS', { fwd: entry ? 'stale' : 'uri-miss' });
    }
    // A read that waited for another read's load shared its answer: collapsed, not a miss of its own.
    stats.record(route, collapsed ? 'collapsed' : 'miss');
    return this.#fromEntry(request, fetched.entry, route, undefined, {
      fwd: entry ? 'stale' : 'uri-miss',
      fwdStatus: fetched.entry.status,
      stored: fetched.stored,
      collapsed,
    });
  }

  async #fetch(request: Request, lookup: Lookup, versions: readonly number[], next: Next): Promise<Fetched> {
    this.#o.stats.originCall(lookup.match.route.match);
    const response = await next(originRequest(request));
    if (!this.#storable(response, lookup)) return { response: mutable(response) };
    const body = await readBody(response.body, this.#o.maxBodyBytes);
    if ('stream' in body) return { response: new Response(body.stream, response) };

    const policy = lookup.match.policy;
    // A 404 or 410 may turn into a 200 at any moment: its whole stored life fits in negativeTtl.
    const negative = response.status >= 400 ? lookup.negativeTtl : undefined;
    const { ttl, swr, sie } = boundWindows(windowsFor(policy, 'server'), { negative });
    const fields: string[] = [];
    response.headers.forEach((value, name) => {
      if (!UNSTORED_FIELDS.has(name)) fields.push(name, value);
    });
    const etag = response.headers.get('etag') ?? etagFor(body.bytes, response.headers.get('content-encoding'));
    if (!response.headers.has('etag')) fields.push('etag', etag);
    // Hits go out with a length (not chunked), and HEAD answers carry the GET's length.
    if (!response.headers.has('content-length') && response.status !== 204) {
      fields.push('content-length', String(body.bytes.byteLength));
    }
    // RFC 9110 §6.6.1: an origin with a clock sends Date; add it where the handler did not.
    if (!response.headers.has('date')) fields.push('date', new Date(this.#o.now()).toUTCString());
    return this.#core.write(lookup.key, lookup.tags, versions, {
      status: response.status,
      fields,
      etag,
      body: body.bytes,
      age: Math.max(0, Number.parseInt(response.headers.get('age') ?? '0', 10) || 0),
      ttl,
      swr,
      sie,
    });
  }

  /** What the server cache may keep: a cacheable status, no cookie, no no-store, nothing Vary: * (RFC 9111 §3). */
  #storable(response: Response, lookup: Lookup): boolean {
    if (!this.#o.cacheableStatuses.has(response.status)) return false;
    if (response.headers.has('set-cookie')) return false;
    const cc = (response.headers.get('cache-control') ?? '').toLowerCase();
    if (/(?:^|,)\s*no-store\b/.test(cc)) return false;
    // A handler marking the answer private keeps it out of shared (unpartitioned) entries.
    if (/(?:^|,)\s*private\b/.test(cc) && lookup.partition === undefined) return false;
    if ((response.headers.get('vary') ?? '').split(',').some((f) => f.trim() === '*')) return false;
    return true;
  }

  /** The origin's answer, past the store: it failed, or a purge naming the entry waits for it. */
  async #bypass(request: Request, route: string, next: Next, detail: string): Promise<Response> {
    this.#o.stats.record(route, 'bypass');
    this.#o.stats.originCall(route);
    return this.#decorate(mutable(await next(request)), 'BYPASS', { fwd: 'bypass', detail });
  }

  #errorFallback(request: Request, entry: Entry, route: string, level: string): Response {
    const status = { hit: true, ttl: entry.ttl - this.#core.age(entry), detail: 'stale-if-error' };
    return this.#fromEntry(request, entry, route, 'error-fallback', status, level);
  }

  /**
   * A fresh hit as plain data, without Request or Response objects: what an adapter can write
   * straight to the socket. Anything else (a miss, stale, a store in trouble) is undefined, and
   * the request takes the full path, which counts it. `finish` adds the route's headers; the
   * result is kept per entry and second (`HitBlocks`), so most hits build no headers at all.
   */
  async freshAnswer(
    method: string,
    ifNoneMatch: string | null,
    lookup: Lookup,
    finish: (answer: HitHeaders) => void,
  ): Promise<StoredAnswer | undefined> {
    return this.#freshFrom(await this.#core.read(lookup.key, lookup.tags), method, ifNoneMatch, lookup, finish);
  }

  /**
   * `freshAnswer` without a promise, where the store answers from this process's memory (the
   * memory store, the L1): the answer, or null when there is none (the full path answers).
   * Undefined where only `freshAnswer` can tell, nothing read.
   */
  freshAnswerNow(
    method: string,
    ifNoneMatch: string | null,
    lookup: Lookup,
    finish: (answer: HitHeaders) => void,
  ): StoredAnswer | null | undefined {
    const read = this.#core.peek(lookup.key, lookup.tags);
    return read && (this.#freshFrom(read, method, ifNoneMatch, lookup, finish) ?? null);
  }

  #freshFrom(
    read: TaggedRead,
    method: string,
    ifNoneMatch: string | null,
    lookup: Lookup,
    finish: (answer: HitHeaders) => void,
  ): StoredAnswer | undefined {
    if (read.kind !== 'read' || !read.entry) return undefined;
    const { entry, level } = read;
    const age = this.#core.age(entry);
    if (freshness(entry, age) !== 'fresh') return undefined;
    this.#o.stats.record(lookup.match.route.match, 'hit');
    const notModified = ifNoneMatchMatches(ifNoneMatch, entry.etag);
    const ttl = Math.floor(entry.ttl - age);
    const { policy } = lookup.match;
    const fields = this.#blocks.fields(
      entry,
      policy,
      lookup.partition,
      level,
      notModified,
      Math.floor(age),
      ttl,
      () => {
        const answer = this.#headers(entry, age, notModified, 'hit', { hit: true, ttl }, level);
        finish(answer);
        return answer;
      },
    );
    const body = notModified || method === 'HEAD' || entry.status === 204 ? null : entry.body;
    return { status: notModified ? 304 : entry.status, fields, body };
  }

  /** The status and headers of an answer from `entry`, read from the store tier `level`: a 304 when `notModified`. */
  #headers(
    entry: Entry,
    age: number,
    notModified: boolean,
    outcome: Outcome | undefined,
    status: CacheStatusParams,
    level: string,
  ): HitHeaders {
    let headers = new Map(pairs(entry.fields));
    const served = outcome !== undefined;
    // RFC 9111 §5.1: a response from the cache carries its Age, replacing any upstream value.
    if (served) headers.set('age', String(Math.floor(age)));
    if (notModified) {
      const kept = new Map<string, string>();
      for (const name of [...NOT_MODIFIED_FIELDS, 'age', 'cache-status']) {
        const value = headers.get(name);
        if (value !== undefined) kept.set(name, value);
      }
      headers = kept;
    }
    headers.set('x-cache', !served ? 'MISS' : outcome === 'hit' ? 'HIT' : 'STALE');
    headers.set('x-cache-level', level);
    appendCacheStatus(headers, status);
    return { status: notModified ? 304 : entry.status, headers };
  }

  #fromEntry(
    request: Request,
    entry: Entry,
    route: string,
    outcome: Outcome | undefined,
    status: CacheStatusParams,
    level = this.#o.store.level,
  ): Response {
    if (outcome) this.#o.stats.record(route, outcome);
    const notModified = ifNoneMatchMatches(request.headers.get('if-none-match'), entry.etag);
    const answer = this.#headers(entry, this.#core.age(entry), notModified, outcome, status, level);
    // The stored bytes are never written to, so answers can share them without a copy.
    const body = notModified || request.method === 'HEAD' || entry.status === 204 ? null : entry.body;
    return bodyResponse(request, body, { status: answer.status, headers: [...answer.headers] });
  }

  #decorate(response: Response, xcache: string, status: CacheStatusParams): Response {
    response.headers.set('x-cache', xcache);
    if (xcache !== 'BYPASS') response.headers.set('x-cache-level', this.#o.store.level);
    appendCacheStatus(response.headers, status);
    return response;
  }
}
