/**
 * Route matching plus header derivation per request, Strata's segment trie against a linear scan
 * of path-to-regexp matchers over the same routes, on manifests of 10, 100 and 1,000 routes.
 */
import {
  browserCache,
  cdnCache,
  defineManifest,
  encodeTagValue,
  fullCache,
  headersFor,
  isValidTag,
  type Manifest,
  matchRoute,
  parsePattern,
  type Route,
  type RouteInput,
  serverCache,
} from '@strata/policy';
import { type MatchFunction, match } from 'path-to-regexp';
import { chartBySize } from './lib/chart.js';
import { type BatchTask, measureBatches } from './lib/measure.js';
import { prng } from './lib/prng.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';

const SIZES = [10, 100, 1_000] as const;
const SAMPLE_SIZE = 1_000;
const MISS_RATE = 0.1;
const SEED = 0x5eed_2024;

type Headers = Record<string, string>;
type Handler = (url: string, method: string) => { index: number; headers: Headers } | undefined;

/** Routes per resource, in manifest order. `items/featured` precedes `items/:id`, so first match wins matters. */
const KINDS = ['list', 'featured', 'item', 'comments', 'me', 'static'] as const;
type Kind = (typeof KINDS)[number];

function routeFor(resource: number, kind: Kind): RouteInput {
  const res = `res${resource}`;
  const api = `/api/v1/${res}`;
  switch (kind) {
    case 'list':
      return { match: `${api}/items`, policy: serverCache(60, { tags: [res], staleWhileRevalidate: 30 }) };
    case 'featured':
      return { match: `${api}/items/featured`, policy: cdnCache(300, { tags: [res] }) };
    case 'item':
      return { match: `${api}/items/:id`, policy: fullCache(600, { tags: [res, `${res}:{id}`], staleIfError: 3600 }) };
    case 'comments':
      return {
        match: `${api}/items/:id/comments`,
        policy: fullCache(120, { tags: [`${res}:{id}`, `${res}:{id}:comments`], vary: ['Accept-Language'] }),
      };
    case 'me':
      return { match: `${api}/me`, policy: browserCache(30, { scope: 'private', vary: ['authorization'] }) };
    case 'static':
      return { match: `/static/${res}/*`, policy: cdnCache(31_536_000, { immutable: true }) };
  }
}

function kindAt(index: number): Kind {
  return KINDS[index % KINDS.length] as Kind;
}

function generateManifest(size: number): Manifest {
  const routes: RouteInput[] = [];
  for (let i = 0; i < size; i++) routes.push(routeFor(Math.floor(i / KINDS.length), kindAt(i)));
  return defineManifest({ version: `bench-${size}`, routes });
}

interface Request {
  url: string;
  method: string;
}

/** A URL that `route` matches (and, as generated, no earlier route does). */
function urlFor(index: number, random: () => number): string {
  const res = `res${Math.floor(index / KINDS.length)}`;
  const id = String(1 + Math.floor(random() * 99_999));
  const query = random() < 0.2 ? `?page=${1 + Math.floor(random() * 9)}&sort=desc` : '';
  switch (kindAt(index)) {
    case 'list':
      return `/api/v1/${res}/items${query}`;
    case 'featured':
      return `/api/v1/${res}/items/featured${query}`;
    case 'item':
      return `/api/v1/${res}/items/${id}${query}`;
    case 'comments':
      return `/api/v1/${res}/items/${id}/comments${query}`;
    case 'me':
      return `/api/v1/${res}/me`;
    case 'static':
      return random() < 0.5
        ? `/static/${res}/app.${id}.js`
        : `/static/${res}/img/${random() < 0.5 ? 'icons' : 'photos'}/p${id}.webp`;
  }
}

/** A URL no route of a manifest with `resources` resources matches. */
function missFor(resources: number, random: () => number): string {
  const res = `res${Math.floor(random() * resources)}`;
  const id = String(1 + Math.floor(random() * 99_999));
  const misses = [
    `/api/v1/${res}/items/${id}/history`,
    `/api/v2/${res}/items/${id}`,
    `/api/v1/res${resources + Math.floor(random() * 50)}/items`,
    `/static/${res}`,
    `/favicon.ico`,
  ];
  return misses[Math.floor(random() * misses.length)] as string;
}

/** The timed requests: hits spread over the whole manifest (the last routes included) and ~10% misses. */
function sampleRequests(size: number): Request[] {
  const random = prng(SEED ^ size);
  const resources = Math.ceil(size / KINDS.length);
  const requests: Request[] = [];
  // The linear scan's worst cases: the last few routes of the manifest.
  for (let index = Math.max(0, size - 3); index < size; index++)
    requests.push({ url: urlFor(index, random), method: 'GET' });
  while (requests.length < SAMPLE_SIZE) {
    const url = random() < MISS_RATE ? missFor(resources, random) : urlFor(Math.floor(random() * size), random);
    requests.push({ url, method: random() < 0.05 ? 'HEAD' : 'GET' });
  }
  return requests;
}

/** Edge cases checked for agreement only (not timed): trailing slashes, case, empty segments, encoding. */
function edgeRequests(size: number): Request[] {
  const last = `res${Math.ceil(size / KINDS.length) - 1}`;
  return [
    '/static/res0/',
    '/static/res0',
    '/static/res0/a/',
    '/api/v1/res0/items/',
    '/API/v1/res0/items',
    '/api/v1/res0/items//comments',
    '/api/v1/res0/items/a%20b',
    '/api/v1/res0/items/caf%C3%A9/comments',
    `/api/v1/${last}/items/featured`,
    `/api/v1/${last}/me?x=1#frag`,
    '/',
  ].flatMap((url) => ['GET', 'HEAD', 'POST'].map((method) => ({ url, method })));
}

/* ----------------------------------------------------------------------------------------------
 * Strata: trie lookup, then headersFor.
 */
function strataHandler(manifest: Manifest): Handler {
  const maxUnpurgeableAge = manifest.defaults.maxUnpurgeableAge;
  return (url, method) => {
    const m = matchRoute(manifest, url, method);
    if (!m) return undefined;
    return { index: m.index, headers: headersFor(m.policy, { tags: m.tags, maxUnpurgeableAge }) };
  };
}

/* ----------------------------------------------------------------------------------------------
 * Baseline: the same routes scanned in order with precompiled path-to-regexp matchers, the same
 * tag expansion (precompiled too), then headersFor.
 */

/** Our pattern syntax in path-to-regexp v9's: `:id` stays, a trailing `*` (zero or more characters) is `{*rest}`. */
function toPathToRegexp(pattern: string): string {
  const escapeText = (text: string): string => text.replace(/[()[\]?+!{}*:\\]/g, '\\$&');
  const { segments, wildcard } = parsePattern(pattern);
  let out = segments.map((s) => `/${s.kind === 'param' ? `:${s.name}` : escapeText(s.value)}`).join('');
  if (wildcard) out += `/${escapeText(wildcard.prefix)}{*rest}`;
  return out;
}

type TagPart = string | { param: string };

function parseTemplate(template: string): TagPart[] {
  return template
    .split(/\{([A-Za-z_][A-Za-z0-9_]*)\}/)
    .map((part, i): TagPart => (i % 2 === 1 ? { param: part } : part))
    .filter((part) => part !== '');
}

interface LinearRoute {
  route: Route;
  matcher: MatchFunction<Partial<Record<string, string | string[]>>>;
  methods: ReadonlySet<string>;
  tags: TagPart[][];
}

function baselineHandler(manifest: Manifest): Handler {
  const maxUnpurgeableAge = manifest.defaults.maxUnpurgeableAge;
  const routes: LinearRoute[] = manifest.routes.map((route) => ({
    route,
    matcher: match(toPathToRegexp(route.match), { sensitive: true, trailing: false }),
    methods: new Set(route.methods),
    tags: (route.policy.tags ?? []).map(parseTemplate),
  }));
  return (url, method) => {
    const end = url.search(/[?#]/);
    const path = end === -1 ? url : url.slice(0, end);
    const upper = method.toUpperCase();
    for (let index = 0; index < routes.length; index++) {
      const r = routes[index] as LinearRoute;
      if (!r.methods.has(upper) && !(upper === 'HEAD' && r.methods.has('GET'))) continue;
      const m = r.matcher(path);
      if (!m) continue;
      const tags: string[] = [];
      for (const template of r.tags) {
        let tag = '';
        for (const part of template) {
          if (typeof part === 'string') tag += part;
          else {
            const value = m.params[part.param];
            tag += encodeTagValue(typeof value === 'string' ? value : '');
          }
        }
        if (isValidTag(tag) && !tags.includes(tag)) tags.push(tag);
      }
      return { index, headers: headersFor(r.route.policy, { tags, maxUnpurgeableAge }) };
    }
    return undefined;
  };
}

/* ----------------------------------------------------------------------------------------------
 * Fairness check and measurement.
 */

/** Throws unless both handlers pick the same route and derive the same headers for every request. */
function assertAgreement(size: number, requests: readonly Request[], strata: Handler, baseline: Handler): void {
  const problems: string[] = [];
  for (const { url, method } of requests) {
    const a = strata(url, method);
    const b = baseline(url, method);
    if (a?.index !== b?.index) problems.push(`${method} ${url}: strata route ${a?.index}, baseline route ${b?.index}`);
    else if (JSON.stringify(a?.headers) !== JSON.stringify(b?.headers)) {
      problems.push(
        `${method} ${url}: headers differ\n    strata:   ${JSON.stringify(a?.headers)}\n    baseline: ${JSON.stringify(b?.headers)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `policy bench: Strata and the path-to-regexp baseline disagree on ${problems.length} request(s) at ${size} routes, ` +
        `so the comparison would be unfair:\n  ${problems.slice(0, 10).join('\n  ')}`,
    );
  }
}

function batchOf(handler: Handler, requests: readonly Request[]): () => number {
  return () => {
    let acc = 0;
    for (const { url, method } of requests) acc += handler(url, method)?.headers['cache-control']?.length ?? 1;
    return acc;
  };
}

const strataLabel = (size: number): string => `strata, ${size.toLocaleString('en-US')} routes`;
const baselineLabel = (size: number): string => `path-to-regexp linear, ${size.toLocaleString('en-US')} routes`;

const bench: BenchModule = {
  name: 'policy',
  aim: "matchRoute + headersFor per request: Strata's cost at 1,000 routes within 2× of its cost at 10 routes, and ≥ 10× a linear path-to-regexp scan at 1,000 routes.",
  async run(opts): Promise<BenchResult> {
    const tasks: BatchTask[] = [];
    for (const size of SIZES) {
      const manifest = generateManifest(size);
      const requests = sampleRequests(size);
      const strata = strataHandler(manifest);
      const baseline = baselineHandler(manifest);
      assertAgreement(size, [...requests, ...edgeRequests(size)], strata, baseline);
      const misses = requests.filter((r) => strata(r.url, r.method) === undefined).length;
      opts.log(
        `  ${size.toLocaleString('en-US')} routes: all ${requests.length.toLocaleString('en-US')} requests (${misses} misses) agree on route and headers`,
      );
      tasks.push({ label: strataLabel(size), size: requests.length, batch: batchOf(strata, requests) });
      tasks.push({ label: baselineLabel(size), size: requests.length, batch: batchOf(baseline, requests) });
    }

    const measured = await measureBatches(tasks, opts);
    const ops = (label: string): number => measured.get(label)?.opsPerSec ?? Number.NaN;
    const rows: Row[] = tasks.map((task) => {
      const m = measured.get(task.label);
      const row: Row = { label: task.label, opsPerSec: m?.opsPerSec ?? Number.NaN };
      if (m) row.spread = m.spread;
      const size = SIZES.find((s) => task.label === strataLabel(s));
      if (size !== undefined) row.baseline = baselineLabel(size);
      return row;
    });

    const largest = SIZES[SIZES.length - 1] as number;
    const smallest = SIZES[0] as number;
    // Cost is 1 / ops: cost(1,000) / cost(10) = ops(10) / ops(1,000).
    const scaling = ops(strataLabel(smallest)) / ops(strataLabel(largest));
    const speedup = ops(strataLabel(largest)) / ops(baselineLabel(largest));
    const speedups = SIZES.map(
      (s) => `${formatRatio(ops(strataLabel(s)) / ops(baselineLabel(s)))} at ${s.toLocaleString('en-US')}`,
    );
    return {
      rows,
      chart: chartBySize(
        {
          title: 'Route match + headersFor, requests/s by manifest size (higher is better)',
          unit: 'requests/s',
          log: true,
        },
        SIZES,
        (s) => `${s.toLocaleString('en-US')} routes`,
        [
          { name: 'strata (trie)', value: (s) => ops(strataLabel(s)) },
          { name: 'path-to-regexp linear scan (baseline)', value: (s) => ops(baselineLabel(s)) },
        ],
      ),
      aims: [
        {
          aim: `Strata's per-request cost at ${largest.toLocaleString('en-US')} routes within 2× of ${smallest} routes`,
          met: scaling <= 2,
          measured: `${formatRatio(scaling)} the cost at ${smallest} routes`,
        },
        {
          aim: `Strata ≥ 10× the linear path-to-regexp baseline at ${largest.toLocaleString('en-US')} routes`,
          met: speedup >= 10,
          measured: `${formatRatio(speedup)} faster`,
        },
      ],
      notes: [
        `Each op is one request: route match plus headersFor. ${SAMPLE_SIZE.toLocaleString('en-US')} seeded requests per ` +
          `size, hits spread over the whole manifest (its last 3 routes included), ~${MISS_RATE * 100}% misses, ~5% HEAD. ` +
          'ops/s = 1 / the median per-request cost of a batch of all requests, over batches pooled from interleaved rounds.',
        `Strata / baseline: ${speedups.join(', ')}.`,
        `Strata cost at ${largest.toLocaleString('en-US')} vs ${smallest} routes: ${formatRatio(scaling)}.`,
      ],
    };
  },
};

export default bench;
