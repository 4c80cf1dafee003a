import { StrataError } from '@strata/policy';
import { RecentKeys } from '../cache/recent-keys.js';
import { internalsOf } from '../internals.js';
import { tableTag } from '../purge-channel.js';
import type { Strata } from '../strata.js';
import { analyzeSql, loadSqlParser, type SqlAnalysis } from './sql.js';
import { sqlCodec } from './sql-codec.js';
import { keyOf } from './sql-params.js';
import type { SqlConnection, SqlDriver, SqlResult } from './types.js';

/** What a write to a table also invalidates (the seed's model invalidation rules). */
export interface TableRule {
  /** Extra tags purged with the table's own. */
  tags?: readonly string[];
  /** Tables whose cached queries are purged too (`table:<schema>.<name>`). */
  related?: readonly string[];
}

export interface QueryCacheOptions {
  /** Tables whose SELECTs may be cached, with their TTL in seconds; `'all'` opts every table in at `defaultTtl`. */
  tables?: Record<string, { ttl: number }> | 'all';
  /** Seconds, for `'all'` and for `cache: true` calls without a TTL. Default 60. */
  defaultTtl?: number;
  /** Views mapped to the tables they read, so a view's queries carry its base tables' tags. */
  views?: Record<string, string[]>;
  /** Per table: what else a write to it invalidates. `onTableChange` adds more. */
  rules?: Record<string, TableRule>;
}

export interface QueryOptions {
  /** Seconds fresh; overrides the tables' TTL. */
  ttl?: number;
  /** Extra tags on the cached entry. */
  tags?: readonly string[];
  /** `true` caches a SELECT even when its tables have no policy; `false` never caches it. */
  cache?: boolean;
}

export interface QueryStat {
  key: string;
  /** The normalized SQL, truncated. */
  sql: string;
  hits: number;
  misses: number;
  /** Mean time the database took for this query, in ms. */
  originMs: number;
}

export interface QueryCacheStats {
  /** Distinct cached queries tracked (the most recent 1,000). */
  cached: number;
  hits: number;
  misses: number;
  averageHits: number;
  /** Sum over queries of mean origin time × hits, in ms. */
  timeSavedMs: number;
  /** Statements the SQL parser could not understand: never cached. */
  refused: number;
  /** The ten queries with the most hits. */
  top: QueryStat[];
}

export interface QueryCache {
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<SqlResult<Row>>;
  /** Runs `fn` in a transaction; the purges its writes call for are sent once, after COMMIT. */
  transaction<T>(fn: (tx: SqlConnection) => Promise<T>): Promise<T>;
  onTableChange(table: string, rule: TableRule): void;
  stats(): QueryCacheStats;
  /** Closes the driver. */
  close(): Promise<void>;
}

const MAX_TRACKED = 1_000;
const SQL_PREVIEW = 200;
const SAVEPOINTS = new Set<SqlAnalysis['transaction']>(['savepoint', 'release', 'rollback-to']);

/** `users` and `public.users` are one table. */
function tableName(table: string): string {
  return tableTag(table).slice('table:'.length);
}

/**
 * The query cache (L4 for SQL): SELECTs on opted-in tables go through `strata.cached`, tagged
 * with their tables; writes purge those tags once they have succeeded. Call after
 * `loadSqlParser()`, or use the promise this returns, which loads it.
 */
export async function queryCache(
  strata: Strata,
  driver: SqlDriver,
  options: QueryCacheOptions = {},
): Promise<QueryCache> {
  await loadSqlParser();
  const defaultTtl = options.defaultTtl ?? 60;
  const policies = new Map<string, number>();
  if (options.tables && options.tables !== 'all') {
    for (const [table, policy] of Object.entries(options.tables)) policies.set(tableName(table), policy.ttl);
  }
  const views = options.views ? { views: options.views } : {};
  const rules = new Map<string, { tags: Set<string>; related: Set<string> }>();
  const onTableChange = (table: string, rule: TableRule) => {
    const name = tableName(table);
    const current = rules.get(name) ?? { tags: new Set<string>(), related: new Set<string>() };
    for (const tag of rule.tags ?? []) current.tags.add(tag);
    for (const related of rule.related ?? []) current.related.add(tableName(related));
    rules.set(name, current);
  };
  for (const [table, rule] of Object.entries(options.rules ?? {})) onTableChange(table, rule);

  const perQuery = new RecentKeys<{ sql: string; hits: number; misses: number; originMs: number; loads: number }>(
    MAX_TRACKED,
  );
  let refused = 0;

  // Parsing costs ~150 µs; applications send the same statement text with different parameters,
  // so analyses are kept per text (cleared whole when full, which keeps it O(1)).
  const analyses = new Map<string, SqlAnalysis | undefined>();
  const analyze = (sql: string): SqlAnalysis | undefined => {
    let analysis = analyses.get(sql);
    if (analysis === undefined && !analyses.has(sql)) {
      analysis = analyzeSql(sql, views);
      if (analyses.size >= 1_000) analyses.clear();
      analyses.set(sql, analysis);
    }
    if (!analysis) refused++;
    return analysis;
  };

  /** Every table a cached query has read: what a statement of unknown effect may have changed. */
  const seenTables = new Set<string>();

  /** The tags a successful statement invalidates. */
  const purgeTags = (analysis: SqlAnalysis | undefined): string[] => {
    // A statement the parser cannot read, or one whose effect it cannot see (DO blocks, CALL,
    // functions), may have written anything: every table cached queries read is purged. Session
    // settings (SET, SHOW) change no data.
    if (!analysis || (analysis.kind === 'other' && analysis.written.length === 0)) {
      if (analysis && /"Variable(?:Set|Show)Stmt"/.test(analysis.canonical)) return [];
      return [...seenTables].map((table) => `table:${table}`);
    }
    const tags = new Set<string>();
    for (const table of analysis.written) {
      tags.add(`table:${table}`);
      const rule = rules.get(table);
      for (const tag of rule?.tags ?? []) tags.add(tag);
      for (const related of rule?.related ?? []) tags.add(`table:${related}`);
    }
    return [...tags];
  };

  /** Seconds to cache this SELECT, or undefined when it is not to be cached. */
  const ttlFor = (analysis: SqlAnalysis, call: QueryOptions): number | undefined => {
    if (call.cache === false || analysis.kind !== 'select' || analysis.written.length > 0) return undefined;
    // SELECT … FOR UPDATE/SHARE takes row locks: answering it from the cache would skip them.
    if (analysis.canonical.includes('"lockingClause"')) return undefined;
    if (call.cache === true) {
      const ttls = analysis.read.map((table) => policies.get(table) ?? defaultTtl);
      return call.ttl ?? (ttls.length === 0 ? defaultTtl : Math.min(...ttls));
    }
    // A query on no table at all (`SELECT now()`) is cached only on request.
    if (analysis.read.length === 0) return undefined;
    if (options.tables === 'all') return call.ttl ?? defaultTtl;
    const ttls = analysis.read.map((table) => policies.get(table));
    if (ttls.some((ttl) => ttl === undefined)) return undefined;
    return call.ttl ?? Math.min(...(ttls as number[]));
  };

  const track = (key: string, sql: string) =>
    perQuery.touch(key, () => ({ sql: sql.slice(0, SQL_PREVIEW), hits: 0, misses: 0, originMs: 0, loads: 0 }));

  const cachedQuery = async <Row>(
    analysis: SqlAnalysis,
    sql: string,
    params: readonly unknown[],
    ttl: number,
    call: QueryOptions,
  ): Promise<SqlResult<Row>> => {
    const key = keyOf(analysis.canonical, params); // the same key as queryKey(), without parsing twice
    for (const table of analysis.read) seenTables.add(table);
    const tags = [...analysis.read.map((table) => `table:${table}`), ...(call.tags ?? [])];
    let loaded = false;
    let originMs = 0;
    const result = await strata.cached<SqlResult<Row>>(
      `sql:${key}`,
      async () => {
        loaded = true;
        const started = performance.now();
        const answer = await driver.query<Row>(sql, params);
        originMs = performance.now() - started;
        return answer;
      },
      { ttl, tags, codec: sqlCodec<SqlResult<Row>>() },
    );
    const entry = track(key, analysis.canonical);
    if (loaded) {
      entry.misses++;
      entry.loads++;
      entry.originMs += originMs;
    } else {
      entry.hits++;
    }
    return result;
  };

  const cache: QueryCache = {
    async query<Row>(sql: string, params: readonly unknown[] = [], call: QueryOptions = {}) {
      const analysis = analyze(sql);
      if (analysis?.kind === 'transaction') {
        // On a pool each statement may run on another connection: BEGIN here would be meaningless.
        throw new StrataError('E_QUERY_INVALID', 'transaction statements go through queryCache().transaction(fn)');
      }
      const ttl = analysis ? ttlFor(analysis, call) : undefined;
      if (analysis && ttl !== undefined) return cachedQuery<Row>(analysis, sql, params, ttl, call);
      const result = await driver.query<Row>(sql, params);
      // Autocommit: the statement is committed once it has answered, so now is "after commit".
      const tags = purgeTags(analysis);
      if (tags.length > 0) await strata.purge({ tags });
      return result;
    },

    async transaction(fn) {
      const tags = new Set<string>();
      const result = await driver.transaction((tx) =>
        fn({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            const analysis = analyze(sql);
            if (analysis?.kind === 'transaction' && !SAVEPOINTS.has(analysis.transaction ?? 'begin')) {
              throw new StrataError('E_QUERY_INVALID', 'BEGIN, COMMIT and ROLLBACK are issued by transaction(fn)');
            }
            // Reads inside a transaction may see its own uncommitted writes: never cached, never served from cache.
            const answer = await tx.query<Row>(sql, params);
            for (const tag of purgeTags(analysis)) tags.add(tag);
            return answer;
          },
        }),
      );
      // Committed: one purge for everything the transaction wrote. Writes undone by ROLLBACK TO
      // SAVEPOINT still purge, which costs a miss and is never wrong.
      if (tags.size > 0) await strata.purge({ tags: [...tags] });
      return result;
    },

    onTableChange,

    stats() {
      const entries = [...perQuery].map(([key, s]) => ({
        key,
        sql: s.sql,
        hits: s.hits,
        misses: s.misses,
        originMs: s.loads === 0 ? 0 : s.originMs / s.loads,
      }));
      const hits = entries.reduce((sum, e) => sum + e.hits, 0);
      return {
        cached: entries.length,
        hits,
        misses: entries.reduce((sum, e) => sum + e.misses, 0),
        averageHits: entries.length === 0 ? 0 : hits / entries.length,
        timeSavedMs: entries.reduce((sum, e) => sum + e.originMs * e.hits, 0),
        refused,
        top: entries.sort((a, b) => b.hits - a.hits).slice(0, 10),
      };
    },

    close: () => driver.close(),
  };
  internalsOf(strata)?.useQueryStats(() => cache.stats());
  return cache;
}

export { sqlCodec };
