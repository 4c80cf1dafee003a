import { isStrataError, type ManifestIssue } from '../errors.js';
import { covers, type Pattern, parsePattern } from '../pattern.js';
import { templateParams } from '../tags.js';
import { CACHEABLE_METHODS, type Level, type Method } from '../types.js';

// RFC 9110 §5.6.2 token: a field name.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const OVERRIDES: [key: 'browserTtl' | 'cdnTtl' | 'serverTtl', level: Level][] = [
  ['browserTtl', 'browser'],
  ['cdnTtl', 'cdn'],
  ['serverTtl', 'server'],
];

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The string members of a list, keeping their positions; undefined when it is not a list. */
const strings = (value: unknown): [string, number][] | undefined =>
  Array.isArray(value)
    ? value.flatMap((v, i): [string, number][] => (typeof v === 'string' ? [[v, i]] : []))
    : undefined;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The rules a schema cannot express for one route, each reported at its own path. It reads the
 * raw route and checks every rule whose fields are well-formed, so a route with a structural
 * error still gets its other problems reported in the same pass.
 */
export function routeIssues(route: unknown, at: string): { issues: ManifestIssue[]; pattern?: Pattern } {
  const issues: ManifestIssue[] = [];
  const add = (path: string, text: string) => issues.push({ path: `${at}.${path}`, message: text });
  if (!isRecord(route)) return { issues };
  const policy = isRecord(route.policy) ? route.policy : {};

  let pattern: Pattern | undefined;
  if (typeof route.match === 'string') {
    try {
      pattern = parsePattern(route.match);
    } catch (error) {
      add('match', isStrataError(error) ? error.message : message(error));
    }
  }

  // Read tags and write rules are held to the same rules: each names only params the pattern has.
  const templates = (list: unknown, path: string) =>
    strings(list)?.forEach(([template, i]) => {
      try {
        for (const name of templateParams(template)) {
          if (pattern && !pattern.params.includes(name)) {
            add(`${path}[${i}]`, `tag '${template}' names {${name}}, but '${pattern.source}' has no :${name} param`);
          }
        }
      } catch (error) {
        add(`${path}[${i}]`, message(error));
      }
    });
  templates(policy.tags, 'policy.tags');
  templates(route.invalidates, 'invalidates');

  const seen = new Set<string>();
  strings(policy.vary)?.forEach(([name, i]) => {
    if (name === '*')
      add(`policy.vary[${i}]`, "'*' is not allowed: Vary: * makes a response impossible to store or purge");
    else if (!TOKEN.test(name)) add(`policy.vary[${i}]`, `'${name}' is not a valid header name`);
    else if (seen.has(name.toLowerCase())) add(`policy.vary[${i}]`, `'${name}' is listed twice`);
    seen.add(name.toLowerCase());
  });

  const levels = new Set<string>();
  strings(policy.levels)?.forEach(([level, i]) => {
    if (levels.has(level)) add(`policy.levels[${i}]`, `level '${level}' is listed twice`);
    levels.add(level);
  });
  if (policy.scope === 'private' && levels.has('cdn')) {
    add(
      'policy.levels',
      "a private policy cannot include the 'cdn' level: shared caches must never store personal responses",
    );
  }
  if (strings(policy.levels)) {
    for (const [key, level] of OVERRIDES) {
      if (policy[key] !== undefined && !levels.has(level))
        add(`policy.${key}`, `${key} is set but '${level}' is not in levels`);
    }
  }
  if (policy.mustRevalidate === true) {
    for (const key of ['staleWhileRevalidate', 'staleIfError'] as const) {
      if (policy[key] !== undefined)
        add(`policy.${key}`, `${key} contradicts mustRevalidate, which forbids serving stale`);
    }
  }
  const varyNames = new Set(strings(policy.vary)?.map(([name]) => name.toLowerCase()));
  if (policy.mustRevalidate === true && levels.has('cdn') && !varyNames.has('authorization')) {
    add(
      'policy.mustRevalidate',
      "on a CDN-level policy, must-revalidate lets shared caches reuse answers to requests with Authorization (RFC 9111 §3.5): add 'authorization' to vary",
    );
  }
  const unsafe = (strings(route.methods) ?? []).map(([m]) => m).filter((m) => !CACHEABLE_METHODS.includes(m as Method));
  if (unsafe.length > 0 && levels.size > 0) {
    add('methods', `${unsafe.join(', ')} responses are never cached: give such routes the noStore() policy`);
  }
  if (Array.isArray(route.invalidates) && !unsafe.some((m) => m !== 'OPTIONS')) {
    add(
      'invalidates',
      'write rules apply to unsafe methods (POST, PUT, PATCH, DELETE), and this route lists none: add them to methods',
    );
  }
  return pattern ? { issues, pattern } : { issues };
}

interface Placed {
  index: number;
  pattern: Pattern;
  methods: string[];
}

/** Routes that can never match: an earlier route covers every path and method they do. */
export function shadowIssues(routes: Placed[]): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  routes.forEach((later, j) => {
    for (const earlier of routes.slice(0, j)) {
      const earlierHasAll = later.methods.every((m) => earlier.methods.includes(m));
      if (!earlierHasAll || !covers(earlier.pattern, later.pattern)) continue;
      const sameMethods = earlier.methods.every((m) => later.methods.includes(m));
      const same = sameMethods && covers(later.pattern, earlier.pattern);
      issues.push({
        path: `routes[${later.index}].match`,
        message: same
          ? `duplicate of routes[${earlier.index}] ('${earlier.pattern.source}')`
          : `never matches: routes[${earlier.index}] ('${earlier.pattern.source}') comes first and matches every request it would`,
      });
      break;
    }
  });
  return issues;
}
