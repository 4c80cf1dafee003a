import { type Pattern, parsePattern, pathSegments, splitPattern } from './pattern.js';
import { expandTemplate, parseTagTemplate, splitTemplate, type TemplatePart } from './tags.js';
import type { Manifest, Method, Route, RouteMatch } from './types.js';

/**
 * A segment trie over every route. Lookup walks the request's segments, not the route list, so
 * its cost depends on the path's depth rather than the number of routes. Several routes can
 * match one path (a literal, a :param and a wildcard branch); first-match-wins is kept by
 * returning the lowest route index found, and subtrees whose lowest index cannot beat the best
 * match so far are never entered.
 */
interface Node {
  statics: Map<string, Node>;
  param: Node | undefined;
  /** Routes that end exactly here, by ascending index. */
  ends: number[];
  /** Wildcard routes anchored here, by ascending index. */
  wildcards: { prefix: string; index: number }[];
  /** Lowest route index anywhere in this subtree. */
  min: number;
}

interface CompiledRoute {
  pattern: Pattern;
  methods: ReadonlySet<string>;
  /** Segment position of each param. */
  paramAt: [name: string, position: number][];
  tags: TemplatePart[][];
  invalidates: TemplatePart[][];
}

interface Compiled {
  root: Node;
  routes: CompiledRoute[];
}

const newNode = (): Node => ({ statics: new Map(), param: undefined, ends: [], wildcards: [], min: Infinity });

const compiledManifests = new WeakMap<Manifest, Compiled>();

/** Parses every pattern and tag template of a manifest; throws StrataError on a bad one. */
export function compileManifest(manifest: Manifest): Compiled {
  for (const route of manifest.routes) {
    parsePattern(route.match);
    for (const template of [...(route.policy.tags ?? []), ...(route.invalidates ?? [])]) parseTagTemplate(template);
  }
  return trieOf(manifest);
}

/**
 * The route trie of a manifest that was validated (every `Manifest` comes from `defineManifest` or
 * `parseManifest`, which check its patterns and templates), built once per manifest. Matching
 * leaves the checks to those, so a service worker that only matches carries none of them.
 */
function trieOf(manifest: Manifest): Compiled {
  const cached = compiledManifests.get(manifest);
  if (cached) return cached;
  const root = newNode();
  const routes = manifest.routes.map((route, index): CompiledRoute => {
    const pattern = splitPattern(route.match);
    let node = root;
    node.min = Math.min(node.min, index);
    const paramAt: [string, number][] = [];
    pattern.segments.forEach((segment, position) => {
      if (segment.kind === 'param') {
        paramAt.push([segment.name, position]);
        node.param ??= newNode();
        node = node.param;
      } else {
        const next = node.statics.get(segment.value) ?? newNode();
        node.statics.set(segment.value, next);
        node = next;
      }
      node.min = Math.min(node.min, index);
    });
    if (pattern.wildcard) node.wildcards.push({ prefix: pattern.wildcard.prefix, index });
    else node.ends.push(index);
    return {
      pattern,
      methods: new Set(route.methods),
      paramAt,
      tags: (route.policy.tags ?? []).map(splitTemplate),
      invalidates: (route.invalidates ?? []).map(splitTemplate),
    };
  });
  const compiled = { root, routes };
  compiledManifests.set(manifest, compiled);
  return compiled;
}

function allows(route: CompiledRoute, method: string): boolean {
  // RFC 9110 §9.3.2: HEAD is GET without the body, so a GET route answers HEAD too.
  return route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'));
}

function find(node: Node, segments: string[], i: number, best: number, ok: (index: number) => boolean): number {
  if (node.min >= best) return best;
  const segment = segments[i];
  if (segment !== undefined) {
    for (const w of node.wildcards) {
      if (w.index >= best) break;
      // A wildcard prefix never holds '/', so the rest of the path starts with it iff this segment does.
      if (segment.startsWith(w.prefix) && ok(w.index)) {
        best = w.index;
        break;
      }
    }
  } else {
    for (const index of node.ends) {
      if (index >= best) break;
      if (ok(index)) {
        best = index;
        break;
      }
    }
    return best;
  }
  const child = node.statics.get(segment);
  if (child) best = find(child, segments, i + 1, best, ok);
  if (node.param && segment !== '') best = find(node.param, segments, i + 1, best, ok);
  return best;
}

/**
 * The first route of the manifest matching `url` (a path, a path with query, or an absolute URL;
 * the query is ignored) and `method`, with its decoded params and expanded tags. The path is
 * compared in canonical form (`canonicalPath`): `/m%65` matches `/me`. A path no cache may store
 * (invalid escape, `%00`, not UTF-8) matches no route.
 */
export function matchRoute(
  manifest: Manifest,
  url: string | URL,
  method: Method | string = 'GET',
): RouteMatch | undefined {
  const { root, routes } = trieOf(manifest);
  const segments = pathSegments(url);
  if (!segments) return undefined;
  const upper = method.toUpperCase();
  const index = find(root, segments, 0, Infinity, (i) => allows(routes[i] as CompiledRoute, upper));
  if (index === Infinity) return undefined;
  const compiled = routes[index] as CompiledRoute;
  // The compiled routes are the manifest's, index for index.
  const route = manifest.routes[index] as Route;
  const params: Record<string, string> = {};
  for (const [name, position] of compiled.paramAt) params[name] = decodeURIComponent(segments[position] as string);
  // Each template expanded, each tag once, in order; a template that gives no valid tag is left out.
  const expand = (templates: TemplatePart[][]) => {
    const tags: string[] = [];
    for (const template of templates) {
      const tag = expandTemplate(template, params);
      if (tag !== undefined && !tags.includes(tag)) tags.push(tag);
    }
    return tags;
  };
  return {
    route,
    index,
    policy: route.policy,
    params,
    tags: expand(compiled.tags),
    invalidates: expand(compiled.invalidates),
  };
}
