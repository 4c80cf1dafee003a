import type { ManifestIssue } from './errors.js';
import type { ManifestDefaults, ManifestInput, Policy, RouteInput } from './types.js';

/**
 * The keys each level of a manifest may hold, without the schema library: `defineManifest` runs
 * where zod is not installed (the page, a JavaScript build) and still refuses a key it would
 * otherwise drop. The zod schema in `validate/schema.ts` declares the same keys (a test holds them
 * equal).
 */
/** The keys of `T` a manifest level may hold, checked against its type (a misspelt key fails to compile). */
const keysOf =
  <T>() =>
  <const K extends readonly (keyof T)[]>(...keys: K): K =>
    keys;

export const MANIFEST_KEYS = keysOf<ManifestInput & { $schema?: string }>()('$schema', 'version', 'defaults', 'routes');
export const DEFAULTS_KEYS = keysOf<ManifestDefaults>()(
  'maxUnpurgeableAge',
  'staleWhileRevalidate',
  'staleIfError',
  'credentialHeaders',
  'negativeTtl',
);
export const ROUTE_KEYS = keysOf<RouteInput>()('match', 'methods', 'policy', 'invalidates');
export const POLICY_KEYS = keysOf<Policy>()(
  'ttl',
  'levels',
  'tags',
  'vary',
  'scope',
  'staleWhileRevalidate',
  'staleIfError',
  'browserTtl',
  'cdnTtl',
  'serverTtl',
  'immutable',
  'mustRevalidate',
);

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] as number;
}

/** `unknown key 'tll' (did you mean 'ttl'?)`, or the list of keys `known` holds when none is close. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = known.find((candidate) => editDistance(candidate.toLowerCase(), key.toLowerCase()) <= 2);
  return near
    ? `unknown key '${key}' (did you mean '${near}'?)`
    : `unknown key '${key}'; expected one of ${known.join(', ')}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function unknownIn(value: unknown, known: readonly string[], at: string, issues: ManifestIssue[]): void {
  if (!isRecord(value)) return;
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) issues.push({ path: at ? `${at}.${key}` : key, message: unknownKeyMessage(key, known) });
  }
}

/**
 * Keys a manifest holds that no level knows, each at its path with the message `parseManifest`
 * gives: a misspelt `invalidate:` must not silently lose its rule.
 */
export function unknownKeyIssues(input: unknown): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  unknownIn(input, MANIFEST_KEYS, '', issues);
  if (!isRecord(input)) return issues;
  unknownIn(input.defaults, DEFAULTS_KEYS, 'defaults', issues);
  if (Array.isArray(input.routes)) {
    input.routes.forEach((route: unknown, i) => {
      unknownIn(route, ROUTE_KEYS, `routes[${i}]`, issues);
      if (isRecord(route)) unknownIn(route.policy, POLICY_KEYS, `routes[${i}].policy`, issues);
    });
  }
  return issues;
}
