/**
 * One member of a Cache-Status field (RFC 9211 §2): a token naming the cache, then parameters.
 * Booleans are bare keys (`hit`, `stored`), integers plain, tokens bare, strings quoted.
 */
export interface CacheStatusParams {
  hit?: boolean;
  fwd?: 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale' | 'partial';
  fwdStatus?: number;
  ttl?: number;
  stored?: boolean;
  collapsed?: boolean;
  detail?: string;
}

export function cacheStatusMember(name: string, params: CacheStatusParams): string {
  const parts = [name];
  // RFC 9211 §2.1/§2.2: hit and fwd are exclusive.
  if (params.hit) parts.push('hit');
  else if (params.fwd) parts.push(`fwd=${params.fwd}`);
  if (params.fwdStatus !== undefined) parts.push(`fwd-status=${Math.trunc(params.fwdStatus)}`);
  if (params.ttl !== undefined) parts.push(`ttl=${Math.trunc(params.ttl)}`);
  if (params.stored) parts.push('stored');
  if (params.collapsed) parts.push('collapsed');
  if (params.detail)
    parts.push(
      /^[A-Za-z*][\w!#$%&'*+\-.^`|~:/]*$/.test(params.detail)
        ? `detail=${params.detail}`
        : `detail=${JSON.stringify(params.detail)}`,
    );
  return parts.join('; ');
}

/** Appends our member after any upstream ones: the cache nearest the user comes last (§2). */
export function appendCacheStatus(headers: Headers, member: string): void {
  const existing = headers.get('cache-status');
  headers.set('cache-status', existing ? `${existing}, ${member}` : member);
}
