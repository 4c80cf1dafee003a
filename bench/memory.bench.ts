/**
 * Cold start and memory of the demo deployment, each part against the plainest thing that does
 * the same job, measured in the same run:
 *
 * - server memory of a demo instance on the memory store, before and after filling its cache
 *   through HTTP (baseline: the same process before filling);
 * - cold start, from spawning the demo to its first answer, with Strata and origin-only
 *   (`DEMO_CACHE=off`);
 * - Redis memory per entry, tag bookkeeping included, against plain `SET key body` of the same
 *   bodies in a redis-server of their own;
 * - the service worker's IndexedDB and Cache Storage per 1,000 entries in Chromium, against
 *   Workbox StaleWhileRevalidate + ExpirationPlugin on the same URLs.
 *
 * There is no seed figure for memory; the aims are this project's own.
 */
import os from 'node:os';
import { createDatabase } from '../e2e/demo-process.js';
import {
  coldStarts,
  MEMORY_CAP,
  mib,
  n,
  ORIGIN_ONLY,
  type RssPoint,
  redisAndWorker,
  SW_ENTRIES,
  SW_MAX_ENTRIES,
  serverMemory,
  WARM_UP,
} from './lib/demo-memory.js';
import type { WorkerStorage } from './lib/sw-storage.js';
import { formatRatio, type Row } from './lib/table.js';
import type { BarChart, BenchModule, BenchResult } from './lib/types.js';

/** Bytes the worker's storage grew by, per 1,000 entries stored. */
const perThousand = (s: WorkerStorage, kind: 'indexedDB' | 'caches'): number =>
  ((s.after[kind] - s.before[kind]) / Math.max(1, s.entries)) * 1_000;

/** A memory row's value: entries per MiB (higher is better, like ops/s); 0 when nothing grew. */
const perMiB = (bytesPerEntry: number): number => (bytesPerEntry > 0 ? 2 ** 20 / bytesPerEntry : 0);

const ratioText = (ours: number, base: number): string => (base > 0 && ours >= 0 ? formatRatio(ours / base) : 'n/a');

const bench: BenchModule = {
  name: 'memory',
  aim: 'cold start and memory: a demo instance with Strata answers its first request within 2× of the origin-only demo; Strata’s Redis entries, tag bookkeeping included, cost at most 2× a plain SET of the same bodies; server memory and the service worker’s IndexedDB per entry reported beside their baselines',
  async run({ quick, log }): Promise<BenchResult> {
    const targets = quick ? [10_000] : [10_000, 100_000];
    const starts = quick ? 2 : 5;
    const responses = quick ? 2_000 : 10_000;
    const load = [os.loadavg()];

    const database = await createDatabase('strata_bench');
    let server: Awaited<ReturnType<typeof serverMemory>>;
    let cold: Awaited<ReturnType<typeof coldStarts>>;
    try {
      server = await serverMemory(database.url, targets, log);
      cold = await coldStarts(database.url, starts, log);
    } finally {
      await database.drop();
    }
    const { footprint: f, strata, workbox } = await redisAndWorker(responses, log);
    load.push(os.loadavg());

    const { before } = server;
    const held = (p: RssPoint) => Math.max(1, p.entries - before.entries);
    const rssPerEntry = (p: RssPoint) => (p.rss - before.rss) / held(p);
    const heapPerEntry = (p: RssPoint) => (p.heap - before.heap) / held(p);
    const entries = f.responses.keys + f.queries.keys;
    const strataPerEntry = f.strataBytes / entries;
    const plainPerEntry = f.plainBytes / entries;
    const redisRatio = strataPerEntry / plainPerEntry;

    const originLabel = cold.valid ? `cold start, ${ORIGIN_ONLY}` : 'cold start, DEMO_CACHE=off (not honoured)';
    const plainLabel = 'redis, plain SET of the body, entries/MiB';
    const rows: Row[] = [
      { label: originLabel, opsPerSec: 1_000 / cold.origin },
      { label: 'cold start, strata', opsPerSec: 1_000 / cold.strata, baseline: originLabel },
      { label: plainLabel, opsPerSec: perMiB(plainPerEntry) },
      { label: 'redis, strata entry + tags, entries/MiB', opsPerSec: perMiB(strataPerEntry), baseline: plainLabel },
    ];
    for (const [kind, name] of [
      ['indexedDB', 'IndexedDB'],
      ['caches', 'Cache Storage'],
    ] as const) {
      const baseLabel = `sw ${name}, workbox SWR + expiration, entries/MiB`;
      const base = perMiB(perThousand(workbox, kind) / 1_000);
      rows.push({ label: baseLabel, opsPerSec: base });
      const ours: Row = {
        label: `sw ${name}, strata, entries/MiB`,
        opsPerSec: perMiB(perThousand(strata, kind) / 1_000),
      };
      if (base > 0) ours.baseline = baseLabel;
      rows.push(ours);
    }

    const table = [
      '| Measure | Strata | Baseline | Strata / baseline |',
      '| --- | ---: | ---: | ---: |',
      `| cold start to the first answer, median of ${starts} | ${cold.strata.toFixed(0)} ms | ${cold.origin.toFixed(0)} ms (${cold.valid ? 'origin only' : 'DEMO_CACHE=off not honoured'}) | ${formatRatio(cold.strata / cold.origin)} |`,
      `| Redis bytes per entry (used_memory) | ${n(strataPerEntry)} B | ${n(plainPerEntry)} B (plain SET) | ${formatRatio(redisRatio)} |`,
      `| IndexedDB bytes per 1,000 entries | ${n(perThousand(strata, 'indexedDB'))} B | ${n(perThousand(workbox, 'indexedDB'))} B (Workbox SWR + expiration) | ${ratioText(perThousand(strata, 'indexedDB'), perThousand(workbox, 'indexedDB'))} |`,
      `| Cache Storage bytes per 1,000 entries | ${n(perThousand(strata, 'caches'))} B | ${n(perThousand(workbox, 'caches'))} B (Workbox SWR + expiration) | ${ratioText(perThousand(strata, 'caches'), perThousand(workbox, 'caches'))} |`,
      ...server.points.map(
        (p) =>
          `| server RSS, ${n(p.requested)} entries requested (${n(p.entries)} held) | ${mib(p.rss)}: ${n(rssPerEntry(p))} B per entry held | ${mib(before.rss)} before filling | ${formatRatio(p.rss / before.rss)} |`,
      ),
      ...server.points.map(
        (p) =>
          `| server heap + buffers, ${n(p.requested)} entries requested (${n(p.entries)} held) | ${mib(p.heap)}: ${n(heapPerEntry(p))} B per entry held | ${mib(before.heap)} before filling | ${formatRatio(p.heap / before.heap)} |`,
      ),
    ];
    const loadText = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
    const notes = [
      'The ops/s column holds starts per second (1,000 / median ms) for the cold starts and entries per MiB for the memory rows, so that higher is better throughout and the ratio compares with the baseline measured in this run; the bytes themselves, and the server memory (whose baseline is the same process before filling), are in the table below.',
      '',
      ...table,
      '',
      `Server memory: one demo instance on the memory store, its limits (by default ${n(MEMORY_CAP.entries)} entries and ${mib(MEMORY_CAP.bytes)} of values) raised for the run with \`DEMO_STORE_MAX_ENTRIES\` and \`DEMO_STORE_MAX_MB\` so that it keeps every entry asked for, PostgreSQL as its database, filled through HTTP with \`GET /api/v1/users/<id>\` for distinct ids, 16 in flight. Every answer stores two entries: the response and the SQL result behind it (the demo reads through the query cache). Read after a full garbage collection in the process (a preloaded handler, \`--expose-gc\`): RSS from the OS, and V8's heap in use plus the memory outside it (ArrayBuffers, where the bodies are). Baseline: the same process after ${WARM_UP.length} warm-up requests for one URL, read the same way.`,
      ...server.points.map(
        (p) =>
          `${n(p.requested)} entries requested (${n(p.responses)} user records): the store holds ${n(p.entries)} entries, ${mib(p.valueBytes)} of values${p.entries < p.requested ? `: fewer than requested, because the store's limits evicted the rest (LRU)` : ''}; RSS ${mib(p.rss)} (${mib(p.rss - before.rss)} above the baseline), heap + buffers ${mib(p.heap)} (${mib(p.heap - before.heap)} above).`,
      ),
      `Cold start: \`node --import tsx demo/server/main.ts\` spawned, \`GET /healthz\` polled every 5 ms until it answers 200; memory store, PostgreSQL, the two modes alternating, median of ${starts} each. tsx compiles the TypeScript at every start (from its cache after the first), in both modes alike. Second \`GET /api/v1/users/1\` of each mode: strata answered x-cache ${cold.xCache.get('strata') ?? '(none)'}, DEMO_CACHE=off x-cache ${cold.xCache.get(ORIGIN_ONLY) ?? '(none)'}${cold.valid ? '.' : '. DEMO_CACHE=off is not honoured by this demo yet: the baseline ran with Strata in the path, so this comparison says nothing.'}`,
      `Redis: a demo instance on a private redis-server, ${n(responses)} user records answered through HTTP after a warm-up; used_memory grew by ${mib(f.strataBytes)} for ${n(f.responses.keys)} response entries, ${n(f.queries.keys)} SQL-result entries and ${n(f.tags.keys)} tag counters. Baseline: the same ${n(entries)} bodies (${mib(f.bodyBytes)}) under the same keys with the same TTLs, \`SET key body PX ttl\`, in a redis-server of its own: ${mib(f.plainBytes)}. MEMORY USAGE, mean of a sample: response entry ${n(f.responses.meanBytes)} B, SQL-result entry ${n(f.queries.meanBytes)} B, tag counter ${n(f.tags.meanBytes)} B, plain SET ${n(f.plain.meanBytes)} B.`,
      `Service worker: Chromium with a profile on disk, a page of the demo origin (\`/healthz\`, so that the app does not register its own worker), ${n(SW_ENTRIES)} distinct \`fetch('/api/v1/users/<id>')\` through the worker; \`navigator.storage.estimate()\` once Cache Storage holds them and IndexedDB has stopped growing, minus the estimate taken when the worker first controlled the page. Strata's worker is built from the demo's manifest with maxEntries ${n(SW_MAX_ENTRIES)} (the demo's own build sets 500, which would hold only half of them); the baseline is Workbox StaleWhileRevalidate + ExpirationPlugin({ maxEntries: ${n(SW_MAX_ENTRIES)} }) on the same URLs. Entries stored: strata ${n(strata.entries)}, workbox ${n(workbox.entries)}${strata.settled && workbox.settled ? '' : ' (IndexedDB was still growing at the last read, which is reported)'}. Chromium counts IndexedDB as its LevelDB files on disk, write-ahead log included, so the figure moves in steps.`,
      `Load average (1/5/15 min) at start ${loadText(load[0] ?? [])}, at end ${loadText(load[1] ?? [])}, on ${os.cpus().length} cores.`,
    ];

    const pair = (label: string, ours: number, base: number) => ({
      label,
      bars: [
        { series: 'strata', value: Math.max(0, ours) },
        { series: 'baseline', value: Math.max(0, base) },
      ],
    });
    const chart: BarChart = {
      title: 'Bytes per cached entry, Strata beside its baseline (lower is better)',
      unit: 'bytes',
      log: true,
      groups: [
        pair('Redis (baseline: plain SET)', strataPerEntry, plainPerEntry),
        pair(
          'SW IndexedDB (baseline: Workbox)',
          perThousand(strata, 'indexedDB') / 1_000,
          perThousand(workbox, 'indexedDB') / 1_000,
        ),
        pair(
          'SW Cache Storage (baseline: Workbox)',
          perThousand(strata, 'caches') / 1_000,
          perThousand(workbox, 'caches') / 1_000,
        ),
        ...server.points.map((p) => ({
          label: `server, ${n(p.requested)} requested, ${n(p.entries)} held`,
          bars: [
            { series: 'strata: RSS', value: Math.max(0, rssPerEntry(p)) },
            { series: 'strata: heap + buffers', value: Math.max(0, heapPerEntry(p)) },
          ],
        })),
      ],
    };

    return {
      rows,
      notes,
      chart,
      aims: [
        {
          aim: 'a demo instance with Strata answers its first request within 2× of the origin-only demo (DEMO_CACHE=off)',
          met: cold.valid && cold.strata <= 2 * cold.origin,
          measured: cold.valid
            ? `${formatRatio(cold.strata / cold.origin)} (${cold.strata.toFixed(0)} ms vs ${cold.origin.toFixed(0)} ms)`
            : `no valid baseline, DEMO_CACHE=off still answered x-cache ${cold.xCache.get(ORIGIN_ONLY)}; Strata ${cold.strata.toFixed(0)} ms`,
        },
        {
          aim: 'Strata’s Redis bytes per entry, headers, metadata and tag counters included, at most 2× a plain SET of the same body',
          met: redisRatio <= 2,
          measured: `${formatRatio(redisRatio)} (${n(strataPerEntry)} B vs ${n(plainPerEntry)} B per entry)`,
        },
      ],
    };
  },
};

export default bench;
