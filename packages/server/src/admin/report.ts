import { serverReads } from '@strata/policy/protocol';
import type { Counters } from '../stats.js';

type Window = Record<string, Counters & { hitRatio: number }>;

export interface ReportInput {
  last5m: Window;
  last1h: Window;
  totals: Counters & { hitRatio: number };
  store: { entries?: number; bytes?: number; circuit: string; failures: number; level: string };
  maxBytes: number | undefined;
  outbox: number;
  busLagMs: number;
  /** Tags carried by the most stored bytes, from a sample of entries. */
  heavyTags: { tag: string; bytes: number; entries: number }[];
  warming: { name: string; failures: number; lastRun?: { ok: boolean } }[];
}

export interface Recommendation {
  severity: 'info' | 'warning' | 'critical';
  problem: string;
  advice: string[];
}

const pct = (ratio: number) => `${Math.round(ratio * 100)}%`;

/**
 * Plain-language advice from the numbers, after the seed's troubleshooting rules: a low hit
 * ratio names the routes behind it, high memory names the tags holding it, a store in trouble
 * or purges stuck in the outbox are said first.
 */
export function recommendations(input: ReportInput): Recommendation[] {
  const out: Recommendation[] = [];
  if (input.store.circuit !== 'closed') {
    out.push({
      severity: 'critical',
      problem: `The ${input.store.level} store is unreachable (circuit ${input.store.circuit}); requests bypass the server cache.`,
      advice: ['Check the store server and the network to it; Strata retries on its own and resumes caching.'],
    });
  }
  if (input.outbox > 0) {
    out.push({
      severity: 'warning',
      problem: `${input.outbox} purge(s) wait in the outbox for the store or the purge log to come back.`,
      advice: [
        'They are delivered in order on recovery; until then reads of the entries they name bypass the server cache.',
      ],
    });
  }
  const low = Object.entries(input.last1h)
    .filter(([, c]) => serverReads(c) >= 20 && c.hitRatio < 0.7)
    .sort((a, b) => a[1].hitRatio - b[1].hitRatio)
    .slice(0, 5);
  if (low.length > 0) {
    out.push({
      severity: 'warning',
      problem: `Low hit ratio over the last hour: ${low.map(([route, c]) => `${route} ${pct(c.hitRatio)}`).join(', ')}.`,
      advice: [
        'Raise the TTL of routes whose data is stable.',
        "Check the cache key: a 'vary' header with many values (or a query string that changes per request) splits entries.",
        'Register a warmer for the critical ones (strata.warm.register).',
        'Check how often their tags are purged: invalidating too broadly empties them.',
      ],
    });
  }
  if (input.maxBytes && input.store.bytes !== undefined && input.store.bytes > 0.8 * input.maxBytes) {
    out.push({
      severity: 'warning',
      problem: `The store holds ${pct(input.store.bytes / input.maxBytes)} of its byte limit.`,
      advice: [
        input.heavyTags.length > 0
          ? `Most bytes sit under: ${input.heavyTags.map((t) => `${t.tag} (${Math.round(t.bytes / 1024)} KiB)`).join(', ')}; shorten their TTLs.`
          : 'Shorten the TTLs of large, rarely reused responses.',
        'Raise the store limit (maxBytes, or Redis maxmemory with an LRU policy).',
      ],
    });
  }
  if (input.busLagMs > 1_000) {
    out.push({
      severity: 'warning',
      problem: `Purges reach this instance ${Math.round(input.busLagMs)} ms after they were made.`,
      advice: ['Check the Redis latency and this instance’s event loop.'],
    });
  }
  const failing = input.warming.filter((job) => job.lastRun && !job.lastRun.ok);
  if (failing.length > 0) {
    out.push({
      severity: 'warning',
      problem: `Warm jobs failing: ${failing.map((j) => j.name).join(', ')}.`,
      advice: ['See /stats for their last error.'],
    });
  }
  if (out.length === 0 && serverReads(input.totals) > 0) {
    out.push({
      severity: 'info',
      problem: `Hit ratio ${pct(input.totals.hitRatio)}; nothing needs attention.`,
      advice: [],
    });
  }
  return out;
}
