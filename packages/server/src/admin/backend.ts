import { StrataError } from '@strata/policy';
import { decodeEntry, pairs } from '../cache/entry.js';
import type { DataCache } from '../data-cache.js';
import type { PurgeChannel } from '../purge-channel.js';
import type { Stats } from '../stats.js';
import type { ResilientStore } from '../store/resilient.js';
import type { Warmer } from '../warm.js';
import { recommendations } from './report.js';
import type { AdminBackend } from './router.js';

export interface BackendDeps {
  store: ResilientStore;
  stats: Stats;
  data: DataCache;
  channel: PurgeChannel;
  warm: Warmer;
  now: () => number;
  /** The instance's full stats (also `strata.stats()`). */
  snapshot: () => Promise<{ store: { entries?: number; bytes?: number } }>;
  maxBytes: number | undefined;
  busLagMs: () => number;
  /** The SQL query cache's numbers, once one is attached. */
  queryStats: () => unknown;
}

/** How many entries `/tags` reads at most: counting tags means decoding entries. */
const TAG_SCAN_LIMIT = 2_000;

async function tagCounts(store: ResilientStore) {
  const keys = await store.keys('*', TAG_SCAN_LIMIT);
  const counts = new Map<string, { entries: number; bytes: number }>();
  for (const key of keys) {
    const { value } = await store.read(key, []);
    if (!value) continue;
    let tags: string[];
    try {
      tags = Object.keys(decodeEntry(value)?.tags ?? {}).filter((tag) => !tag.startsWith('url:'));
    } catch {
      continue;
    }
    for (const tag of tags) {
      const count = counts.get(tag) ?? { entries: 0, bytes: 0 };
      count.entries++;
      count.bytes += value.byteLength;
      counts.set(tag, count);
    }
  }
  const tags = [...counts].map(([tag, c]) => ({ tag, ...c })).sort((a, b) => b.entries - a.entries);
  return { tags, scanned: keys.length, complete: keys.length < TAG_SCAN_LIMIT };
}

/** The admin API's view of one Strata instance. */
export function adminBackend(deps: BackendDeps): AdminBackend {
  const { store, stats, data, channel, warm, now } = deps;
  return {
    stats: () => deps.snapshot(),
    queryStats() {
      const keys = [...data.keyStats].map(([key, s]) => ({ key, ...s }));
      const hits = keys.reduce((sum, k) => sum + k.hits, 0);
      const sql = deps.queryStats();
      return {
        tracked: keys.length,
        averageHits: keys.length === 0 ? 0 : hits / keys.length,
        top: keys.sort((a, b) => b.hits - a.hits).slice(0, 10),
        ...(sql === undefined ? {} : { sql }),
      };
    },
    invalidate: (request) => channel.send(request),
    clearAll: () => channel.clearAll(),
    async warm(jobs) {
      const names = jobs ?? warm.names();
      const unknown = names.filter((name) => !warm.names().includes(name));
      if (unknown.length > 0) throw new StrataError('E_WARM_JOB_UNKNOWN', `no warm job named ${unknown.join(', ')}`);
      const runs = await Promise.all(names.map(async (name) => ({ name, ...(await warm.run(name)) })));
      return { runs };
    },
    async inspect(key) {
      const { value } = await store.read(key, []);
      if (!value) return undefined;
      const entry = decodeEntry(value);
      if (!entry) return undefined; // another build's format: a miss here, as on the request path
      const tags = Object.keys(entry.tags);
      const current = await store.versions(tags);
      const age = entry.age + (now() - entry.storedAt) / 1000;
      return {
        key,
        status: entry.status,
        headers: Object.fromEntries(pairs(entry.fields)),
        bytes: entry.body.byteLength,
        storedAt: new Date(entry.storedAt).toISOString(),
        age: Math.floor(age),
        ttl: entry.ttl,
        staleWhileRevalidate: entry.swr,
        staleIfError: entry.sie,
        fresh: age < entry.ttl,
        // An entry whose tags were purged since it was stored is a miss, even if it is still here.
        purged: tags.some((tag, i) => current[i] !== entry.tags[tag]),
        tags: tags.filter((tag) => !tag.startsWith('url:')),
      };
    },
    // Every instance's own copy goes too (its L1): the removal travels the purge log.
    remove: async (key) => (await channel.remove([key])) > 0,
    tags: () => tagCounts(store),
    async report() {
      const snapshot = await deps.snapshot();
      const heavy = await tagCounts(store).catch(() => ({ tags: [] }));
      const health = store.health();
      return {
        generatedAt: new Date(now()).toISOString(),
        windows: { last5m: stats.window(5), last1h: stats.window(60) },
        totals: stats.snapshot().totals,
        recommendations: recommendations({
          last5m: stats.window(5),
          last1h: stats.window(60),
          totals: stats.snapshot().totals,
          store: { ...health, ...snapshot.store },
          maxBytes: deps.maxBytes,
          outbox: channel.outboxSize,
          busLagMs: deps.busLagMs(),
          heavyTags: [...heavy.tags].sort((a, b) => b.bytes - a.bytes).slice(0, 3),
          warming: warm.status(),
        }),
      };
    },
  };
}
