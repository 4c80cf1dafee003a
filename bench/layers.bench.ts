/**
 * Response time per cache layer, the demo deployed on loopback (the seed's "Response Time
 * Improvements" table): a hashed static asset, the users list, a user record and the dashboard,
 * each answered by
 *
 * - the origin only: a `DEMO_CACHE=off` instance (the same app and database, no Strata at all),
 *   the baseline;
 * - the server cache: a Strata instance (Redis store), warmed, asked directly (`X-Cache: HIT`);
 * - the CDN: Varnish in front of that instance, warmed (`Cache-Status: …, varnish; hit`);
 * - the service worker: `fetch()` in a Chromium page the worker controls, timed there with
 *   `performance.now()` (`Cache-Status: …, strata-sw; hit`);
 * - the browser's HTTP cache, for the static asset: the same in a page whose context blocks
 *   service workers, read from the cache without any network transfer (Resource Timing
 *   `transferSize` 0).
 *
 * Every sample's headers are checked against the layer it is counted for, and the instances'
 * origin counters prove who did the work: a batch counted as a cache hit must not move them, a
 * batch of the origin-only instance must move them by exactly its size.
 */
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { type Stack, startStack } from '../e2e/stack.js';
import { launchChromium } from '../packages/sw/test/browser/helpers/browser.js';
import { openPage, pageSamples, type Sample, timedGet } from './fixtures/demo-samplers.js';
import {
  Cleanup,
  type Counters,
  counters,
  type DemoInstance,
  nearestCache,
  stackEnv,
  startDemoInstance,
} from './fixtures/demo-stack.js';
import { count, fmtMs, type Summary, summarize } from './lib/latency.js';
import { stopwatch } from './lib/stopwatch.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BarChart, BenchModule, BenchResult } from './lib/types.js';

/** The demo's default: each statement that reaches the database waits this long first. */
const DELAY_MS = 150;
const DIST = fileURLToPath(new URL('../demo/dist/', import.meta.url));
/** User records the detail route cycles through. */
const DETAIL_IDS = 20;

type LayerKey = 'origin' | 'server' | 'cdn' | 'sw' | 'http';
const LAYERS: { key: LayerKey; label: string }[] = [
  { key: 'origin', label: 'origin only' },
  { key: 'server', label: 'server cache' },
  { key: 'cdn', label: 'CDN (Varnish)' },
  { key: 'sw', label: 'service worker' },
  { key: 'http', label: 'browser HTTP cache' },
];
/** The layers measured inside Chromium. */
const inPage = (layer: LayerKey): layer is 'sw' | 'http' => layer === 'sw' || layer === 'http';

interface Route {
  key: 'static' | 'list' | 'detail' | 'dashboard';
  label: string;
  /** The path of the i-th sample. */
  path(i: number): string;
  /** The origin counter this route moves (`GET /api/v1/users`), if any. */
  counter?: string;
  /** Statements one origin answer runs (no query cache in front of the database). */
  statements: number;
  /** The seed's before → after claim, in ms. */
  seed: string;
}

function routes(staticPath: string): Route[] {
  return [
    { key: 'static', label: 'static asset', path: () => staticPath, statements: 0, seed: '50 → 0 (browser cache)' },
    {
      key: 'list',
      label: 'API list',
      path: () => '/api/v1/users',
      counter: 'GET /api/v1/users',
      statements: 2,
      seed: '150 → 2 (server cache)',
    },
    {
      key: 'detail',
      label: 'API detail',
      path: (i) => `/api/v1/users/${1 + (i % DETAIL_IDS)}`,
      counter: 'GET /api/v1/users/:id',
      statements: 1,
      seed: '150 → 2 (server cache)',
    },
    {
      key: 'dashboard',
      label: 'dashboard',
      path: () => '/api/v1/dashboard',
      counter: 'GET /api/v1/dashboard',
      statements: 4,
      seed: '300 → 10',
    },
  ];
}

/**
 * Hashed assets are kept by the CDN and the browser: the demo's manifest gives them no server-cache
 * level. API answers get `max-age=60` for the browser but carry the server cache's `Age`: once
 * that entry is a minute old they reach the browser already stale, so its HTTP cache holds them
 * fresh only during a run's first minute, and only the worker (on its own clock) keeps them.
 */
const applies = (layer: LayerKey, route: Route): boolean =>
  layer === 'server' ? route.key !== 'static' : layer === 'http' ? route.key === 'static' : true;

/** Throws unless every fetch of a batch in the HTTP-cache page was answered without a network transfer. */
function checkTransfers(route: Route, n: number, transferred: number[]): void {
  const fromNetwork = transferred.filter((bytes) => bytes !== 0).length;
  if (transferred.length !== n || fromNetwork > 0) {
    throw new Error(
      `${route.label} via the browser HTTP cache: ${transferred.length} resource entries for ${n} fetches, ` +
        `${fromNetwork} of them with bytes from the network`,
    );
  }
}

/** Throws unless the sample was answered by `layer`: the measurement is only worth its attribution. */
function checkSample(layer: LayerKey, route: Route, sample: Sample): void {
  const where = `${route.label} via ${layer}`;
  if (sample.status !== 200) throw new Error(`${where}: status ${sample.status}`);
  const nearest = nearestCache(sample.cacheStatus);
  const fail = (expected: string) => {
    throw new Error(
      `${where}: expected ${expected}, got X-Cache ${sample.xCache ?? '(none)'}, Cache-Status ${sample.cacheStatus ?? '(none)'}`,
    );
  };
  if (layer === 'origin') {
    if (sample.xCache !== null || sample.cacheStatus !== null) fail('no cache headers (origin only)');
  } else if (layer === 'server') {
    if (sample.xCache !== 'HIT' || nearest?.cache !== 'strata' || !nearest.hit) fail('X-Cache HIT, `strata; hit`');
  } else if (layer === 'cdn') {
    if (nearest?.cache !== 'varnish' || !nearest.hit) fail('`varnish; hit` last');
  } else if (layer === 'sw') {
    if (nearest?.cache !== 'strata-sw' || !nearest.hit) fail('`strata-sw; hit` last');
  }
  // The HTTP cache hands back the stored headers unchanged: its batches are checked by their transfers.
}

interface Deployment {
  stack: Stack;
  origin: DemoInstance;
  strata: string;
  cdn: string;
  pages: Record<'sw' | 'http', Page>;
  agents: Record<'origin' | 'server' | 'cdn', Agent>;
}

/** One batch of samples of one (layer, route), checked sample by sample and against the origin counters. */
async function batch(d: Deployment, layer: LayerKey, route: Route, from: number, n: number): Promise<number[]> {
  const paths = Array.from({ length: n }, (_, i) => route.path(from + i));
  // The instance whose origin must (origin only) or must not (every cache layer) do the work.
  const watched = layer === 'origin' ? d.origin.url : d.strata;
  const before = await counters(watched);
  let samples: Sample[];
  if (inPage(layer)) {
    const measured = await pageSamples(d.pages[layer], paths);
    if (layer === 'http') checkTransfers(route, n, measured.transferred);
    samples = measured.samples;
  } else {
    const base = layer === 'origin' ? d.origin.url : layer === 'server' ? d.strata : d.cdn;
    samples = [];
    for (const path of paths) samples.push(await timedGet(d.agents[layer], `${base}${path}`));
  }
  for (const sample of samples) checkSample(layer, route, sample);
  const after = await counters(watched);
  checkCounters(layer, route, n, before, after);
  return samples.map((s) => s.ms);
}

function checkCounters(layer: LayerKey, route: Route, n: number, before: Counters, after: Counters): void {
  if (!route.counter) return;
  const moved = (after.origin[route.counter] ?? 0) - (before.origin[route.counter] ?? 0);
  const statements = after.statements - before.statements;
  const expected = layer === 'origin' ? n : 0;
  const expectedStatements = layer === 'origin' ? n * route.statements : 0;
  if (moved !== expected || statements !== expectedStatements) {
    throw new Error(
      `${route.label} via ${layer}: ${n} requests moved the origin counter by ${moved} (expected ${expected}) ` +
        `and ran ${statements} statements (expected ${expectedStatements})`,
    );
  }
}

/**
 * Requests `path` through `layer` until that layer answers it from storage: fills it at first,
 * and refreshes what expired since (a full run outlasts the browser's 60 s on API answers).
 */
async function warm(d: Deployment, layer: Exclude<LayerKey, 'origin'>, route: Route, path: string): Promise<void> {
  let last: unknown;
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      if (inPage(layer)) {
        const { samples, transferred } = await pageSamples(d.pages[layer], [path]);
        checkSample(layer, route, samples[0] as Sample);
        if (layer === 'http') checkTransfers(route, 1, transferred);
      } else {
        checkSample(layer, route, await timedGet(d.agents[layer], `${layer === 'server' ? d.strata : d.cdn}${path}`));
      }
      return;
    } catch (error) {
      // The first answers fill the layer (the worker stores after answering): ask again shortly.
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${route.label} via ${layer}: ${path} never became a hit`, { cause: last });
}

async function staticAsset(): Promise<string> {
  let html: string;
  try {
    html = await readFile(`${DIST}index.html`, 'utf8');
  } catch {
    throw new Error('demo/dist is missing: run `npm run build` first (the front end and /sw.js are measured)');
  }
  const src = /<script[^>]+src="(\/static\/[^"]+)"/.exec(html)?.[1];
  if (!src) throw new Error('demo/dist/index.html names no script under /static/');
  return src;
}

const bench: BenchModule = {
  name: 'layers',
  aim:
    'the seed’s response times per layer, against an origin-only instance in the same run: API list and detail via ' +
    'the server cache p50 ≤ 2 ms, dashboard via the server cache p50 ≤ 10 ms, the static asset via the browser ' +
    '(service worker) p50 ≤ 1 ms',
  async run({ quick, log }): Promise<BenchResult> {
    // Full: 4 interleaved rounds; per round and (layer, route) 25 origin samples of an API route
    // (each waits for the database) or 500 of anything else. Quick: one round of 15 / 200.
    const rounds = quick ? 1 : 4;
    const slowPerRound = quick ? 15 : 25;
    const fastPerRound = quick ? 200 : 500;
    const warmup = quick ? 10 : 30;
    const elapsed = stopwatch();
    const staticPath = await staticAsset();
    const list = routes(staticPath);
    const samples = new Map<string, number[]>();
    const cell = (layer: LayerKey, route: Route) => `${route.key}:${layer}`;
    const cleanup = new Cleanup();
    try {
      log(`  starting Redis, PostgreSQL, Varnish → Strata instance, and an origin-only instance (${DELAY_MS} ms)`);
      const stack = await startStack({ instances: ['strata'], varnish: true, delayMs: DELAY_MS });
      cleanup.add(() => stack.stop());
      const origin = await startDemoInstance('origin-only', { ...stackEnv(stack, DELAY_MS), DEMO_CACHE: 'off' });
      cleanup.add(() => origin.stop());
      const agents = {
        origin: new Agent({ keepAlive: true, maxSockets: 1 }),
        server: new Agent({ keepAlive: true, maxSockets: 1 }),
        cdn: new Agent({ keepAlive: true, maxSockets: 1 }),
      };
      cleanup.add(async () => {
        for (const agent of Object.values(agents)) agent.destroy();
      });
      const browser = await launchChromium();
      cleanup.add(() => browser.close());
      const strata = stack.instances[0]?.url as string;
      // Pages that load no user data themselves, so only the measured fetches touch those routes.
      const pages = {
        sw: await openPage(browser, `${strata}/login`, true),
        http: await openPage(browser, `${strata}/login`, false),
      };
      const d: Deployment = { stack, origin, strata, cdn: stack.entry(0), pages, agents };
      log(`  deployment up (${elapsed()})`);

      // Fill every layer (not timed), then a warm-up batch of each (layer, route).
      const fill = async (layer: LayerKey, route: Route) => {
        if (layer === 'origin') return;
        const paths = new Set(Array.from({ length: DETAIL_IDS }, (_, i) => route.path(i)));
        for (const path of paths) await warm(d, layer, route, path);
      };
      for (const layer of LAYERS) {
        for (const route of list) {
          if (!applies(layer.key, route)) continue;
          await fill(layer.key, route);
          const slow = layer.key === 'origin' && route.counter !== undefined;
          await batch(d, layer.key, route, 0, slow ? 3 : warmup);
        }
      }
      log(`  every layer warm (${elapsed()})`);

      for (let round = 0; round < rounds; round++) {
        for (const layer of LAYERS) {
          for (const route of list) {
            if (!applies(layer.key, route)) continue;
            const n = layer.key === 'origin' && route.counter !== undefined ? slowPerRound : fastPerRound;
            await fill(layer.key, route);
            const taken = await batch(d, layer.key, route, round * n, n);
            samples.set(cell(layer.key, route), [...(samples.get(cell(layer.key, route)) ?? []), ...taken]);
          }
          log(`  round ${round + 1}/${rounds}: ${layer.label} measured (${elapsed()})`);
        }
      }
    } finally {
      await cleanup.run();
    }

    const stats = new Map([...samples].map(([key, values]) => [key, summarize(values)]));
    const at = (layer: LayerKey, route: Route): Summary | undefined => stats.get(cell(layer, route));
    const label = (layer: { label: string }, route: Route) => `${route.label}: ${layer.label}`;
    const rows: Row[] = [];
    const table = [
      '| Route | Layer | p50 ms | p95 ms | p50 vs origin only | p95 vs origin only | samples |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const route of list) {
      const base = at('origin', route) as Summary;
      for (const layer of LAYERS) {
        const m = at(layer.key, route);
        if (!m) {
          table.push(`| ${route.label} | ${layer.label} | n/a | n/a | | | |`);
          continue;
        }
        const row: Row = { label: label(layer, route), opsPerSec: 1_000 / m.p50, spread: m.spread };
        if (layer.key !== 'origin') row.baseline = label(LAYERS[0] as { label: string }, route);
        rows.push(row);
        const speedup = (q: 'p50' | 'p95') => (layer.key === 'origin' ? '(baseline)' : formatRatio(base[q] / m[q]));
        table.push(
          `| ${route.label} | ${layer.label} | ${fmtMs(m.p50)} | ${fmtMs(m.p95)} | ${speedup('p50')} | ${speedup('p95')} | ${count(m.n)} |`,
        );
      }
    }

    const [staticRoute, listRoute, detailRoute, dashboardRoute] = list as [Route, Route, Route, Route];
    const p50 = (layer: LayerKey, route: Route) => (at(layer, route) as Summary).p50;
    const chart: BarChart = {
      title: 'Response time per layer (p50, log scale)',
      unit: 'ms',
      log: true,
      groups: list.map((route) => ({
        label: route.label,
        bars: LAYERS.flatMap((layer) => {
          const m = at(layer.key, route);
          return m ? [{ series: layer.label, value: m.p50 }] : [];
        }),
      })),
    };
    const seedLine = list
      .map((route) => `${route.label} ${route.seed} ms (measured origin only ${fmtMs(p50('origin', route))})`)
      .join('; ');

    return {
      rows,
      chart,
      notes: [
        `ops/s = 1,000 / p50 latency in ms; "vs baseline" is the speed-up over the origin-only instance on the same route. ` +
          `Each sample is one GET over a kept-alive loopback connection from this process, timed until the last body byte; ` +
          'the browser layers’ samples are `fetch()` calls in a Chromium page, timed there with `performance.now()`.',
        `Deployment: PostgreSQL, Redis, Varnish (the repo's VCL) in front of a Strata instance on the Redis store, and a ` +
          `\`DEMO_CACHE=off\` instance on the same database; DEMO_DELAY_MS=${DELAY_MS} (each statement that reaches ` +
          `the database waits that long). The detail route cycles through users 1–${DETAIL_IDS}; the static asset is ` +
          `${staticPath} from demo/dist. ${rounds} interleaved round(s); per (layer, route) ${count(rounds * slowPerRound)} ` +
          `origin samples of an API route, ${count(rounds * fastPerRound)} of anything else, after a warm-up.`,
        'Checked on every sample: origin only sends no X-Cache and no Cache-Status; the server cache `X-Cache: HIT` and ' +
          '`strata; hit` last; the CDN `varnish; hit` last; the service worker `strata-sw; hit` last. Checked per batch: ' +
          'the browser HTTP cache (a context that blocks service workers) transferred 0 bytes from the network for every ' +
          'fetch (Resource Timing); the origin-only instance ran exactly the route’s statements per request; the Strata ' +
          'instance’s origin counter did not move while a cache layer answered.',
        'The server cache has no static-asset cell: the demo’s manifest keeps hashed assets in the CDN and the browser ' +
          '(`cdnCache`), not the server cache. The browser HTTP cache has only that cell: API answers come with ' +
          '`max-age=60` and the server cache’s `Age`, so once their server-cache entry is a minute old they arrive ' +
          'already stale and the browser revalidates every time; in the demo, the service worker keeps them.',
        `The seed’s claims (before → after, ms): ${seedLine}. Its "database queries 100 → 5 ms" is the query cache, ` +
          'measured by the query-cache benchmark.',
        `On loopback a request to a server costs next to nothing, so the browser layers, which pay for \`fetch()\` ` +
          `itself (and the worker's Cache Storage lookup), can be slower than the server cache or the CDN here: the ` +
          `service worker's p50 on the API detail is ${fmtMs(p50('sw', detailRoute))} ms against ` +
          `${fmtMs(p50('server', detailRoute))} ms for the server cache, so it is ahead as soon as the round trip to ` +
          `the server exceeds ${fmtMs(Math.max(0, p50('sw', detailRoute) - p50('server', detailRoute)))} ms. The server ` +
          'cache’s hits include a Redis round trip (the instance runs on the Redis store).',
        '',
        ...table,
      ],
      aims: [
        {
          aim: 'API list and API detail via the server cache: p50 ≤ 2 ms (seed: 150 → 2 ms)',
          met: p50('server', listRoute) <= 2 && p50('server', detailRoute) <= 2,
          measured: `list ${fmtMs(p50('server', listRoute))} ms (${formatRatio(p50('origin', listRoute) / p50('server', listRoute))} faster than origin only), detail ${fmtMs(p50('server', detailRoute))} ms (${formatRatio(p50('origin', detailRoute) / p50('server', detailRoute))})`,
        },
        {
          aim: 'dashboard via the server cache: p50 ≤ 10 ms (seed: 300 → 10 ms)',
          met: p50('server', dashboardRoute) <= 10,
          measured: `${fmtMs(p50('server', dashboardRoute))} ms (${formatRatio(p50('origin', dashboardRoute) / p50('server', dashboardRoute))} faster than origin only, ${fmtMs(p50('origin', dashboardRoute))} ms)`,
        },
        {
          aim: 'static asset from the browser as the demo deploys it (its service worker answers): p50 ≤ 1 ms (seed: 50 → 0 ms)',
          met: p50('sw', staticRoute) <= 1,
          measured:
            `${fmtMs(p50('sw', staticRoute))} ms; the HTTP cache alone (no worker) ${fmtMs(p50('http', staticRoute))} ms, ` +
            `origin only ${fmtMs(p50('origin', staticRoute))} ms, CDN ${fmtMs(p50('cdn', staticRoute))} ms`,
        },
      ],
    };
  },
};

export default bench;
