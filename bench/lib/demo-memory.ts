/**
 * The measurements of bench/memory.bench.ts, each on the real demo: server memory on the memory
 * store, cold start, Redis per entry, and the service worker's storage. The benchmark module
 * turns them into its report.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServiceWorker } from '@strata/sw/vite';
import manifest from '../../demo/strata.manifest.js';
import { startDemo } from '../../e2e/demo-process.js';
import { startStack } from '../../e2e/stack.js';
import { cacheStats, getAll } from './demo-process.js';
import { median } from './latency.js';
import { compareWithPlainSet, connectRedis, type Footprint, keysMatching, usedMemory } from './redis-footprint.js';
import { measureWorkerStorage, type WorkerStorage } from './sw-storage.js';
import { buildWorkboxWorker } from './workbox.js';

type Log = (line: string) => void;

const DIST = fileURLToPath(new URL('../../demo/dist', import.meta.url));
/** The demo's Redis store prefix (demo/server/app.ts): entries are `<prefix>:e:…`, tag counters `<prefix>:t:…`. */
const PREFIX = 'strata-demo:';
const TOKEN = randomBytes(16).toString('hex');
/** The memory store's defaults (packages/server/src/store/memory.ts). */
/** The memory store's default limits (`memoryStore()`, the demo's DEMO_STORE_MAX_ENTRIES / _MB). */
export const MEMORY_CAP = { entries: 10_000, bytes: 64 * 1024 * 1024 };
export const SW_ENTRIES = 1_000;
/** Raised from the demo build's 500 so that 1,000 entries fit; the Workbox baseline gets the same. */
export const SW_MAX_ENTRIES = 5_000;
export const WARM_UP = Array.from({ length: 200 }, () => '/api/v1/users/1');

export const n = (value: number): string => Math.round(value).toLocaleString('en-US');
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const userPaths = (from: number, to: number): string[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => `/api/v1/users/${from + i}`);

// ---- server memory on the memory store --------------------------------------------------------

/** The process's memory after a full garbage collection, in bytes. */
export interface ProcessMemory {
  rss: number;
  /** V8's heap in use plus memory outside it (ArrayBuffers, where the cached bodies live). */
  heap: number;
  /** Store entries held then. */
  entries: number;
}

export interface RssPoint extends ProcessMemory {
  /** Store entries asked for: every user record answered adds its response and the SQL result behind it. */
  requested: number;
  responses: number;
  /** Bytes of stored values, as the store counts them. */
  valueBytes: number;
}

async function memoryOf(demo: Awaited<ReturnType<typeof startDemo>>): Promise<ProcessMemory> {
  const { heapUsed, external, rss } = await demo.collectGarbage();
  const { store } = await cacheStats(demo.url, TOKEN);
  return { rss, heap: heapUsed + external, entries: store.entries ?? 0 };
}

/** One demo instance on the memory store, filled through HTTP towards each target in turn. */
export async function serverMemory(databaseUrl: string, targets: readonly number[], log: Log) {
  const most = Math.max(...targets);
  const demo = await startDemo(
    'bench-rss',
    {
      DATABASE_URL: databaseUrl,
      STRATA_ADMIN_TOKEN: TOKEN,
      DEMO_DELAY_MS: '0',
      DEMO_USERS: String(most / 2),
      // Room for every entry asked for: the default limits (10,000 entries, 64 MiB) would evict.
      DEMO_STORE_MAX_ENTRIES: String(most * 2),
      DEMO_STORE_MAX_MB: '4096',
    },
    { gc: true },
  );
  try {
    await getAll(demo.url, WARM_UP, 8, () => {});
    const before = await memoryOf(demo);
    log(`  server memory: RSS ${mib(before.rss)} after the warm-up, ${before.entries} store entries`);
    const points: RssPoint[] = [];
    let answered = 1;
    for (const requested of targets) {
      const paths = userPaths(answered + 1, requested / 2);
      log(`  server memory: filling towards ${n(requested)} entries (${n(paths.length)} more user records)`);
      await getAll(demo.url, paths, 16, (done) => log(`    ${n(done)} of ${n(paths.length)} answered`));
      answered = requested / 2;
      const { store } = await cacheStats(demo.url, TOKEN);
      const point = { requested, responses: answered, valueBytes: store.bytes ?? 0, ...(await memoryOf(demo)) };
      points.push(point);
      log(`  server memory: ${n(point.entries)} entries held, RSS ${mib(point.rss)}, heap ${mib(point.heap)}`);
    }
    return { before, points };
  } finally {
    await demo.stop();
  }
}

// ---- cold start -------------------------------------------------------------------------------

export const ORIGIN_ONLY = 'origin only (DEMO_CACHE=off)';
const MODES = [ORIGIN_ONLY, 'strata'] as const;

/** Alternating starts of each mode, on the memory store and the given database. */
export async function coldStarts(databaseUrl: string, runs: number, log: Log) {
  const times = new Map<(typeof MODES)[number], number[]>(MODES.map((m) => [m, []]));
  /** The second answer for one URL, per mode: its `x-cache` says whether Strata was in the path. */
  const xCache = new Map<(typeof MODES)[number], string | null>();
  for (let run = 1; run <= runs; run++) {
    for (const mode of MODES) {
      const demo = await startDemo('bench-start', {
        DATABASE_URL: databaseUrl,
        STRATA_ADMIN_TOKEN: TOKEN,
        DEMO_DELAY_MS: '0',
        ...(mode === 'strata' ? {} : { DEMO_CACHE: 'off' }),
      });
      try {
        times.get(mode)?.push(demo.startMs);
        if (!xCache.has(mode)) {
          await fetch(`${demo.url}/api/v1/users/1`).then((r) => r.arrayBuffer());
          const again = await fetch(`${demo.url}/api/v1/users/1`);
          await again.arrayBuffer();
          xCache.set(mode, again.headers.get('x-cache'));
        }
      } finally {
        await demo.stop();
      }
      log(`  cold start ${run}/${runs}, ${mode}: ${demo.startMs.toFixed(0)} ms to the first answer`);
    }
  }
  return {
    origin: median(times.get(ORIGIN_ONLY) ?? []),
    strata: median(times.get('strata') ?? []),
    xCache,
    /** Whether DEMO_CACHE=off really took Strata out of the path (no x-cache), and Strata cached. */
    valid: xCache.get(ORIGIN_ONLY) == null && xCache.get('strata') === 'HIT',
  };
}

// ---- Redis, and the service worker's storage ---------------------------------------------------

/** demo/dist, its worker rebuilt from the demo's manifest with room for the entries measured. */
async function staticDir(): Promise<string> {
  const dir = await mkdtemp(join(os.tmpdir(), 'strata-bench-static-'));
  try {
    await cp(DIST, dir, { recursive: true });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`the demo is not built (${(error as Error).message}): run \`npm run build\` first`);
  }
  const { code } = await buildServiceWorker({ manifest, options: { maxEntries: SW_MAX_ENTRIES } });
  await writeFile(join(dir, 'sw.js'), code);
  return dir;
}

export interface RedisAndWorker {
  footprint: Footprint;
  strata: WorkerStorage;
  workbox: WorkerStorage;
}

/**
 * One demo instance on a private redis-server (the e2e stack): Redis memory while `responses`
 * user records fill it, then, on the same instance, the service workers' storage in Chromium.
 */
export async function redisAndWorker(responses: number, log: Log): Promise<RedisAndWorker> {
  const dir = await staticDir();
  const stack = await startStack({
    varnish: false,
    instances: ['bench'],
    delayMs: 0,
    users: Math.max(responses + 1, SW_ENTRIES),
    env: { DEMO_STATIC_DIR: dir },
  });
  try {
    const url = stack.instances[0]?.url as string;
    const client = await connectRedis(stack.redis.url);
    let footprint: Footprint;
    try {
      await getAll(url, WARM_UP, 8, () => {});
      const present = new Set(await keysMatching(client, `${PREFIX}:*`));
      const before = await usedMemory(client);
      const paths = userPaths(2, responses + 1);
      log(`  redis: filling ${n(paths.length)} user records through HTTP`);
      await getAll(url, paths, 16, (done) => log(`    ${n(done)} of ${n(paths.length)} answered`));
      const grown = (await usedMemory(client)) - before;
      const entryKeys = (await keysMatching(client, `${PREFIX}:e:*`)).filter((k) => !present.has(k));
      const tagKeys = (await keysMatching(client, `${PREFIX}:t:*`)).filter((k) => !present.has(k));
      log(`  redis: ${n(entryKeys.length)} new entries, ${n(tagKeys.length)} new tag counters; now the plain SETs`);
      footprint = await compareWithPlainSet(client, PREFIX, entryKeys, tagKeys, grown);
    } finally {
      await client.close().catch(() => {});
    }

    const worker = (label: string) =>
      measureWorkerStorage({
        origin: url,
        pagePath: '/healthz',
        paths: userPaths(1, SW_ENTRIES),
        entryPattern: '^/api/v1/users/\\d+$',
        log: (line) => log(`${line} (${label})`),
      });
    log(`  service worker: Strata's worker (demo manifest), ${n(SW_ENTRIES)} entries`);
    const strata = await worker('strata');
    log(`  service worker: Workbox SWR + ExpirationPlugin, ${n(SW_ENTRIES)} entries`);
    const workboxCode = await buildWorkboxWorker({
      pathPrefix: '/api/v1/users/',
      cacheName: 'api',
      expiration: { maxEntries: SW_MAX_ENTRIES, maxAgeSeconds: 600 },
    });
    // The instance serves its static directory from disk: the next browser profile gets this worker.
    await writeFile(join(dir, 'sw.js'), workboxCode);
    const workbox = await worker('workbox');
    return { footprint, strata, workbox };
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
