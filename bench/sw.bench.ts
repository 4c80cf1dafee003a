/**
 * Cached-hit latency through the service worker, in real Chromium: no service worker (the HTTP
 * cache answers), plain Workbox StaleWhileRevalidate, Workbox SWR + ExpirationPlugin, and Strata's
 * default worker — each with 50 and 2,000 entries cached. Every variant runs in a fresh browser
 * context against the same loopback origin, in the same run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { browserCache, defineManifest } from '@strata/policy';
import { buildServiceWorker } from '@strata/sw/vite';
import type { Page } from 'playwright-core';
import { launchChromium, registerWorker } from '../packages/sw/test/browser/helpers/browser.js';
import { chartBySize } from './lib/chart.js';
import { stopwatch } from './lib/stopwatch.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BenchModule, BenchResult } from './lib/types.js';
import { buildWorkboxWorker } from './lib/workbox.js';

const SIZES = [50, 2_000] as const;
// Filling 2,000 entries in four browser contexts takes most of a minute on a 2-core machine; the
// quick run uses 1,000 as its large size to stay well under one.
const QUICK_SIZES = [50, 1_000] as const;
const HITS = 1_000;
const QUICK_HITS = 300;
const BODY = JSON.stringify({ items: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `item ${i}` })) });

const manifest = defineManifest({
  version: 'bench',
  routes: [{ match: '/data/:id', policy: browserCache(3600, { tags: ['data', 'data:{id}'] }) }],
});

type Variant = 'no service worker' | 'workbox SWR' | 'workbox SWR + expiration' | 'strata';
const VARIANTS: Variant[] = ['no service worker', 'workbox SWR', 'workbox SWR + expiration', 'strata'];

interface Workers {
  code: Record<Exclude<Variant, 'no service worker'>, string>;
  strataGzip: number;
}

async function buildWorkers(): Promise<Workers> {
  const [swr, expiration, strata] = await Promise.all([
    buildWorkboxWorker({ pathPrefix: '/data/', cacheName: 'bench' }),
    buildWorkboxWorker({
      pathPrefix: '/data/',
      cacheName: 'bench',
      expiration: { maxEntries: 5000, maxAgeSeconds: 3600 },
    }),
    buildServiceWorker({ manifest }),
  ]);
  return {
    code: { 'workbox SWR': swr, 'workbox SWR + expiration': expiration, strata: strata.code },
    strataGzip: strata.gzipBytes,
  };
}

/** The worker script of each variant, at /sw/<index>.js. */
const swUrl = (variant: Variant): string => `/sw/${VARIANTS.indexOf(variant)}.js`;

function startOrigin(workers: Workers) {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>bench</title>');
    if (path.startsWith('/sw/')) {
      const variant = VARIANTS[Number.parseInt(path.slice(4), 10)] as Exclude<Variant, 'no service worker'>;
      const headers = { 'content-type': 'text/javascript', 'cache-control': 'no-store', 'service-worker-allowed': '/' };
      return void res.writeHead(200, headers).end(workers.code[variant]);
    }
    // Cacheable for an hour, so the no-service-worker case is answered by the HTTP cache.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }).end(BODY);
  });
}

/** The page globals used below (benchmarks are type-checked with Node's types, not the DOM lib). */
interface PageGlobals {
  caches: { open(name: string): Promise<{ keys(): Promise<unknown[]> }> };
}

/** Fetches every entry once and waits until the worker has stored them all. */
async function fill(page: Page, variant: Variant, size: number, progress: (line: string) => void): Promise<void> {
  // In slices of 500, to report progress between them: a large fill takes a while.
  for (let from = 0; from < size; from += 500) {
    await page.evaluate(
      async ([start, end]) => {
        for (let i = start; i < end; i += 50) {
          await Promise.all(
            Array.from({ length: Math.min(50, end - i) }, (_, j) => fetch(`/data/${i + j}`).then((r) => r.text())),
          );
        }
      },
      [from, Math.min(size, from + 500)] as const,
    );
    if (size > 500)
      progress(`${Math.min(size, from + 500).toLocaleString('en-US')} of ${size.toLocaleString('en-US')} fetched`);
  }
  if (variant === 'no service worker') return;
  const cache = variant === 'strata' ? 'strata:bench:public' : 'bench';
  await page.waitForFunction(
    async ([name, n]) => {
      const { caches } = globalThis as unknown as PageGlobals;
      return (await (await caches.open(name)).keys()).length >= n;
    },
    [cache, size] as const,
    { polling: 100, timeout: 120_000 },
  );
}

/** `count` sequential hits spread over the entries; per-fetch latency in ms. */
function hits(page: Page, size: number, count: number, offset: number): Promise<number[]> {
  return page.evaluate(
    async ([n, c, o]) => {
      const out: number[] = [];
      for (let k = 0; k < c; k++) {
        const url = `/data/${(o + k * 7) % n}`;
        const t0 = performance.now();
        await (await fetch(url)).text();
        out.push(performance.now() - t0);
      }
      return out;
    },
    [size, count, offset] as const,
  );
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

interface Measured {
  p50: number;
  p99: number;
  mad: number;
}

function summarize(samples: number[]): Measured {
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const deviations = sorted.map((x) => Math.abs(x - p50)).sort((a, b) => a - b);
  return { p50, p99: quantile(sorted, 0.99), mad: (quantile(deviations, 0.5) / p50) * 100 };
}

const n = (count: number): string => count.toLocaleString('en-US');
const label = (variant: Variant, size: number): string => `${variant}, ${n(size)} entries`;

const bench: BenchModule = {
  name: 'sw',
  aim:
    'Cached hits through Strata’s service worker ≤ 1.1× the latency of plain Workbox StaleWhileRevalidate and ≤ 0.8× ' +
    'Workbox SWR + ExpirationPlugin, flat from 50 to 2,000 entries; default worker ≤ 9 KB gzipped.',
  async run({ quick, log }): Promise<BenchResult> {
    const sizes = quick ? QUICK_SIZES : SIZES;
    const [small, large] = sizes;
    // Full: 1,000 timed hits per case in 4 interleaved rounds of 250. Quick: 300 in one round (indicative).
    const rounds = quick ? 1 : 4;
    const perRound = quick ? QUICK_HITS : HITS / rounds;
    const elapsed = stopwatch();
    const workers = await buildWorkers();
    log(`  built the workers; Strata's default worker is ${workers.strataGzip} B gzipped`);
    const origin = startOrigin(workers);
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/`;
    const browser = await launchChromium();
    const samples = new Map<string, number[]>();
    try {
      // One context per case (variant × size), all set up and filled first (not timed). The timed
      // rounds then visit every case in turn, so drift on a shared machine weighs on all alike.
      const cases = sizes.flatMap((size) => VARIANTS.map((variant) => ({ variant, size })));
      const pages = new Map<string, Page>();
      for (const size of sizes) {
        await Promise.all(
          VARIANTS.map(async (variant) => {
            const page = await (await browser.newContext()).newPage();
            await page.goto(base);
            if (variant !== 'no service worker') await registerWorker(page, swUrl(variant));
            await fill(page, variant, size, (line) => log(`    ${label(variant, size)}: ${line} (${elapsed()})`));
            await hits(page, size, quick ? 30 : 100, 1); // warm-up
            pages.set(label(variant, size), page);
            log(`    ${label(variant, size)}: filled and warmed up (${elapsed()})`);
          }),
        );
        log(`  ${n(size)} entries: every variant filled (${elapsed()})`);
      }
      for (let round = 0; round < rounds; round++) {
        for (const { variant, size } of cases) {
          const taken = await hits(pages.get(label(variant, size)) as Page, size, perRound, round * 13);
          samples.set(label(variant, size), [...(samples.get(label(variant, size)) ?? []), ...taken]);
          if (variant === VARIANTS[VARIANTS.length - 1])
            log(`    round ${round + 1}: ${n(size)} entries timed (${elapsed()})`);
        }
        log(`  round ${round + 1} of ${rounds} timed (${elapsed()})`);
      }
    } finally {
      await browser.close();
      origin.close();
    }

    const stats = new Map([...samples].map(([key, values]) => [key, summarize(values)]));
    const at = (variant: Variant, size: number): Measured => stats.get(label(variant, size)) as Measured;
    const rows: Row[] = sizes.flatMap((size) =>
      VARIANTS.map((variant): Row => {
        const m = at(variant, size);
        const row: Row = { label: label(variant, size), opsPerSec: 1000 / m.p50, spread: m.mad };
        if (variant !== 'workbox SWR') row.baseline = label('workbox SWR', size);
        return row;
      }),
    );
    const ratio = (a: Variant, b: Variant, size: number, q: 'p50' | 'p99' = 'p50') => at(a, size)[q] / at(b, size)[q];
    const worst = (a: Variant, b: Variant) => Math.max(...sizes.map((s) => ratio(a, b, s)));
    const flat = at('strata', large).p50 / at('strata', small).p50;
    const table = [
      '| Case | p50 ms | p99 ms | p50 vs Workbox SWR | p99 vs Workbox SWR |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...sizes.flatMap((size) =>
        VARIANTS.map((v) => {
          const m = at(v, size);
          return `| ${label(v, size)} | ${m.p50.toFixed(3)} | ${m.p99.toFixed(3)} | ${formatRatio(ratio(v, 'workbox SWR', size))} | ${formatRatio(ratio(v, 'workbox SWR', size, 'p99'))} |`;
        }),
      ),
    ];
    return {
      rows,
      chart: chartBySize(
        { title: 'Cached hit through the service worker, p50 latency of one fetch() (lower is better)', unit: 'ms' },
        sizes,
        (size) => `${n(size)} entries`,
        VARIANTS.map((variant) => ({
          name: variant === 'workbox SWR' ? 'workbox SWR (baseline)' : variant,
          value: (size) => at(variant, size).p50,
        })),
      ),
      aims: [
        {
          aim: `Strata p50 ≤ 1.1× plain Workbox SWR at ${n(small)} and ${n(large)} entries`,
          met: worst('strata', 'workbox SWR') <= 1.1,
          measured: sizes.map((s) => `${formatRatio(ratio('strata', 'workbox SWR', s))} at ${n(s)}`).join(', '),
        },
        {
          aim: `Strata p50 ≤ 0.8× Workbox SWR + ExpirationPlugin at ${n(small)} and ${n(large)} entries`,
          met: worst('strata', 'workbox SWR + expiration') <= 0.8,
          measured: sizes
            .map((s) => `${formatRatio(ratio('strata', 'workbox SWR + expiration', s))} at ${n(s)}`)
            .join(', '),
        },
        {
          aim: `Strata flat from ${n(small)} to ${n(large)} entries (p50 at ${n(large)} within 1.2× of p50 at ${n(small)})`,
          met: flat <= 1.2,
          measured: `${formatRatio(flat)}`,
        },
        {
          aim: 'default Strata worker ≤ 9 KB (9,216 B) gzipped',
          met: workers.strataGzip <= 9216,
          measured: `${workers.strataGzip.toLocaleString('en-US')} B`,
        },
      ],
      notes: [
        `Each sample is one \`fetch()\` of a cached URL from the page, body read, timed with performance.now(); ` +
          `${samples.get(label('strata', 50))?.length.toLocaleString('en-US')} hits per case after ${quick ? 30 : 100} warm-up hits, over ${rounds} interleaved round(s). ` +
          'ops/s = 1,000 / p50 latency in ms; ± MAD is the median absolute deviation of the latencies.',
        'Workbox StaleWhileRevalidate refetches and re-stores on every hit (through the HTTP cache here: the origin says max-age=3600); ' +
          'Strata serves fresh entries without the network; ExpirationPlugin reads and writes IndexedDB on every hit.',
        '',
        ...table,
        '',
        `Strata's default service worker: ${workers.strataGzip.toLocaleString('en-US')} B gzipped.`,
      ],
    };
  },
};

export default bench;
