import { ManifestError, type ManifestIssue } from '../errors.js';
import { DEFAULTS_KEYS, MANIFEST_KEYS, POLICY_KEYS, ROUTE_KEYS, unknownKeyMessage } from '../keys.js';
import { defineManifest } from '../manifest.js';
import type { Manifest, ManifestInput } from '../types.js';
import { routeIssues, shadowIssues } from './rules.js';
import { manifestSchema, routeSchema } from './schema.js';

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );

function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  const last = path.at(-1);
  if (path.length === 0) return MANIFEST_KEYS;
  if (last === 'defaults') return DEFAULTS_KEYS;
  if (last === 'policy') return POLICY_KEYS;
  return ROUTE_KEYS;
}

/** Every structural and semantic problem of a manifest; empty when it is valid. */
export function manifestIssues(json: unknown): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          issues.push({
            path: formatPath([...issue.path, key]),
            message: unknownKeyMessage(key, knownKeysAt(issue.path)),
          });
        }
      } else issues.push({ path: formatPath(issue.path), message: issue.message });
    }
  }

  // Semantic rules run on every route, even on routes and manifests with structural errors,
  // so one pass reports everything.
  const routes = (json as { routes?: unknown } | null)?.routes;
  if (Array.isArray(routes)) {
    const placed: {
      index: number;
      pattern: NonNullable<ReturnType<typeof routeIssues>['pattern']>;
      methods: string[];
    }[] = [];
    routes.forEach((raw, index) => {
      const result = routeIssues(raw, `routes[${index}]`);
      issues.push(...result.issues);
      // Only well-formed routes take part in the shadowing check: a broken one matches nothing.
      const route = routeSchema.safeParse(raw);
      if (route.success && result.pattern) {
        placed.push({ index, pattern: result.pattern, methods: route.data.methods ?? ['GET', 'HEAD'] });
      }
    });
    issues.push(...shadowIssues(placed));
  }
  // Document order: routes[2] before routes[10].
  const key = (path: string) => path.replace(/\d+/g, (n) => n.padStart(8, '0'));
  return issues.sort((a, b) => (key(a.path) < key(b.path) ? -1 : key(a.path) > key(b.path) ? 1 : 0));
}

/**
 * Validates untrusted manifest data (JSON, a module's export) and returns the normalized
 * manifest. Throws a ManifestError listing every issue with its path.
 */
export function parseManifest(json: unknown): Manifest {
  const issues = manifestIssues(json);
  if (issues.length > 0) throw new ManifestError(issues);
  return defineManifest(manifestSchema.parse(json) as ManifestInput);
}

export { manifestJsonSchema } from './json-schema.js';
export { manifestSchema };
