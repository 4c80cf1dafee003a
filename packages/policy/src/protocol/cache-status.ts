/**
 * Members of the Cache-Status field (RFC 9211). The field is a Structured-Field List with one
 * member per cache, the one nearest the user last (§2): each layer appends its own member after
 * whatever the origin and the caches before it wrote.
 */

/** RFC 9211 §2.2: why the cache forwarded the request. */
export type CacheStatusForward =
  | 'bypass'
  | 'method'
  | 'uri-miss'
  | 'vary-miss'
  | 'miss'
  | 'request'
  | 'stale'
  | 'partial';

export interface CacheStatusParams {
  /** §2.1. Exclusive with `fwd`: when both are given, `hit` wins. */
  hit?: boolean | undefined;
  fwd?: CacheStatusForward | undefined;
  /** §2.3: the status code the next hop answered (an integer). */
  fwdStatus?: number | undefined;
  /** §2.4: seconds of freshness left, negative once stale; written as an Integer (rounded down). */
  ttl?: number | undefined;
  stored?: boolean | undefined;
  collapsed?: boolean | undefined;
  /** §2.8: a token is written bare, anything else as a quoted String. */
  detail?: string | undefined;
}

// RFC 8941 §3.3.4 sf-token.
const TOKEN = /^[A-Za-z*][\w!#$%&'*+\-.^`|~:/]*$/;

/** One member: `strata; hit; ttl=41` or `strata-sw; fwd=stale; fwd-status=503; ttl=-3; detail=stale-if-error`. */
export function cacheStatusMember(name: string, params: CacheStatusParams): string {
  // §2.1/§2.2: hit and fwd are exclusive. A Boolean true is the bare key (RFC 8941 §3.1.2).
  let member = params.hit ? `${name}; hit` : params.fwd ? `${name}; fwd=${params.fwd}` : name;
  if (params.fwdStatus !== undefined) member += `; fwd-status=${params.fwdStatus}`;
  // §2.4: an Integer; 1.5 would be a Decimal.
  if (params.ttl !== undefined) member += `; ttl=${Math.floor(params.ttl)}`;
  if (params.stored) member += '; stored';
  if (params.collapsed) member += '; collapsed';
  const { detail } = params;
  if (detail) member += `; detail=${TOKEN.test(detail) ? detail : JSON.stringify(detail)}`;
  return member;
}

/** A Cache-Status value with `member` appended after the upstream members (§2). */
export function appendCacheStatus(existing: string | null | undefined, member: string): string {
  const upstream = existing?.trim();
  return upstream ? `${upstream}, ${member}` : member;
}
