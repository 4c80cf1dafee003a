import type { Level, Policy, PolicyOptions } from './types.js';

function preset(levels: Level[], ttl: number, opts: PolicyOptions = {}): Policy {
  return { ...opts, ttl, levels };
}

/** Browser only (service worker and HTTP cache). Default 300 s. */
export function browserCache(ttl = 300, opts?: PolicyOptions): Policy {
  return preset(['browser'], ttl, opts);
}

/** CDN and browser. Default 3600 s. */
export function cdnCache(ttl = 3600, opts?: PolicyOptions): Policy {
  return preset(['browser', 'cdn'], ttl, opts);
}

/** Server cache (memory or Redis) and browser. Default 600 s. */
export function serverCache(ttl = 600, opts?: PolicyOptions): Policy {
  return preset(['browser', 'server'], ttl, opts);
}

/** Every level: browser, CDN and server. Default 1800 s. */
export function fullCache(ttl = 1800, opts?: PolicyOptions): Policy {
  return preset(['browser', 'cdn', 'server'], ttl, opts);
}

/** Stored nowhere: `no-store` at every level. */
export function noStore(): Policy {
  return { ttl: 0, levels: [] };
}

/** TTL of one level, after its override. */
export function levelTtl(policy: Policy, level: Level): number {
  const override = level === 'browser' ? policy.browserTtl : level === 'cdn' ? policy.cdnTtl : policy.serverTtl;
  return override ?? policy.ttl;
}

/** Whether a level may store responses of this policy. */
export function storesAt(policy: Policy, level: Level): boolean {
  return policy.levels.includes(level);
}
