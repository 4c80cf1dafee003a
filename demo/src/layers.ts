/** The cache levels a response can come from, nearest the user first. */
export type Layer = 'sw' | 'cdn' | 'server' | 'origin';

export interface LayerInfo {
  layer: Layer;
  /** Short name for a badge: `Service worker`, `CDN (varnish)`, `Server (memory)`, `Origin`. */
  label: string;
  /** How it answered, in a few words. */
  detail: string;
}

/** One member of a Cache-Status field: the cache's name and its parameters. */
export interface CacheStatusMember {
  cache: string;
  params: Map<string, string | true>;
}

const SERVED_STALE = new Set(['stale-while-revalidate', 'stale-if-error']);

/**
 * Parses a Cache-Status field (RFC 9211 §2: a Structured-Field List, RFC 8941 §3.1). Members are
 * split on commas and parameters on semicolons outside quoted strings; strings are unquoted.
 * Enough for reading what caches wrote, not a validating parser.
 */
export function parseCacheStatus(value: string | null): CacheStatusMember[] {
  if (!value) return [];
  const members: CacheStatusMember[] = [];
  for (const raw of splitOutsideQuotes(value, ',')) {
    const [name, ...params] = splitOutsideQuotes(raw, ';').map((part) => part.trim());
    if (!name) continue;
    const member: CacheStatusMember = { cache: unquote(name), params: new Map() };
    for (const param of params) {
      const equals = param.indexOf('=');
      if (equals === -1) member.params.set(param.toLowerCase(), true);
      else member.params.set(param.slice(0, equals).trim().toLowerCase(), unquote(param.slice(equals + 1).trim()));
    }
    members.push(member);
  }
  return members;
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    if (quoted && char === '\\') {
      current += char + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.filter((part) => part.trim() !== '');
}

// RFC 8941 §3.3.3: a String is quoted, with `\"` and `\\` as its only escapes.
function unquote(value: string): string {
  if (!value.startsWith('"') || !value.endsWith('"') || value.length < 2) return value;
  return value.slice(1, -1).replace(/\\(["\\])/g, '$1');
}

/** Whether this cache answered: a hit, or a stale copy it served (stale-while-revalidate / stale-if-error). */
export function served(member: CacheStatusMember): boolean {
  const detail = member.params.get('detail');
  return member.params.get('hit') === true || (typeof detail === 'string' && SERVED_STALE.has(detail));
}

/** A member in a few words: `hit, ttl 42 s`, `stale-if-error (origin 503)`, `fwd=uri-miss, stored`. */
export function describeMember(member: CacheStatusMember): string {
  const { params } = member;
  const detail = params.get('detail');
  const ttl = params.get('ttl');
  const status = params.get('fwd-status');
  if (typeof detail === 'string' && SERVED_STALE.has(detail)) {
    return status === undefined ? detail : `${detail} (origin ${status})`;
  }
  const parts = [params.get('hit') === true ? 'hit' : `fwd=${params.get('fwd') ?? '?'}`];
  if (typeof ttl === 'string' && params.get('hit') === true) parts.push(`ttl ${ttl} s`);
  if (params.get('stored') === true) parts.push('stored');
  if (typeof detail === 'string') parts.push(detail);
  return parts.join(', ');
}

/**
 * Which layer answered a response, from its headers. Cache-Status members are in order from the
 * origin to the client (RFC 9211 §2), so the answering layer is the last member that served it:
 * `strata-sw` is the service worker, `strata` the server cache (its store from X-Cache-Level) and
 * any other cache a CDN or proxy in between (Varnish writes `varnish`). None served: the origin.
 */
export function layerOf(headers: Headers): LayerInfo {
  const members = parseCacheStatus(headers.get('cache-status'));
  const answering = members.findLast(served);
  const level = headers.get('x-cache-level')?.toLowerCase();
  const server = level ? `Server (${level})` : 'Server';
  if (!answering) {
    // No Cache-Status from the server cache (a proxy may drop it): X-Cache still says whether it answered.
    const xcache = headers.get('x-cache')?.toUpperCase();
    if (!members.some((m) => m.cache === 'strata') && (xcache === 'HIT' || xcache === 'STALE')) {
      return { layer: 'server', label: server, detail: `X-Cache: ${xcache}` };
    }
    const path = members.map((m) => `${m.cache} ${describeMember(m)}`).join(' → ');
    return { layer: 'origin', label: 'Origin', detail: path || 'no cache involved' };
  }
  const detail = describeMember(answering);
  if (answering.cache === 'strata-sw') return { layer: 'sw', label: 'Service worker', detail };
  if (answering.cache === 'strata') return { layer: 'server', label: server, detail };
  return { layer: 'cdn', label: `CDN (${answering.cache})`, detail };
}
