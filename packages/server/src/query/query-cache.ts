import { StrataError } from '@strata/policy';
import { RecentKeys } from '../cache/recent-keys.js';
import type { Codec } from '../data-cache.js';
import { internalsOf } from '../internals.js';
import { tableTag } from '../purge-channel.js';
import type { Strata } from '../strata.js';
import { invalidation, type TableRule } from './invalidation.js';
import { type DeclaredKeys, keyCatalog } from './key-catalog.js';
import { type CachedResult, resultCodec } from './result-codec.js';
import { listTag } from './row-tags.js';
import { analyzeSql, loadSqlParser, type SqlAnalysis } from './sql.js';
import { sqlCodec } from './sql-codec.js';
import { keyFor, statementDigest } from './sql-params.js';
import type { SqlConnection, SqlDriver, SqlResult } from './types.js';

export type { TableRule };

export interface QueryCacheOptions {
  /** Tables whose SELECTs may be cached, with their TTL in seconds; `'all'` opts every table in at `defaultTtl`. */
  tables?: Record<string, { ttl: number }> | 'all';
  /** Seconds, for `'all'` and for `cache: true` calls without a TTL. Default 60. */
  defaultTtl?: number;
  /** Views mapped to the tables they read, so a view's queries carry its base tables' tags. */
  views?: Record<string, string[]>;
  /** Per table: what else a write to it invalidates. `onTableChange` adds more. */
  rules?: Record<string, TableRule>;
  /**
   * Key columns by table, instead of the catalog's primary and unique keys: column → `'integer'`,
   * `'text'` or `'uuid'`. Writes pinned to a primary key purge only those rows' queries.
   */
  keys?: Record<string, DeclaredKeys>;
  /** Milliseconds between reads of the catalog's keys, triggers and rules. Default 60,000. */
  keysRefreshMs?: number;
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
/** Statement texts whose analysis is kept. */
const MAX_STATEMENTS = 1_000;
const SQL_PREVIEW = 200;
const SAVEPOINTS = new Set<SqlAnalysis['transaction']>(['savepoint', 'release', 'rollback-to']);

/** A statement text's analysis, and the digest of its canonical form that keys its entries. */
interface Statement {
  analysis: SqlAnalysis;
  digest: string;
}

const sameTags = (a: readonly string[] | undefined, b: readonly string[]) =>
  a !== undefined && a.length === b.length && a.every((tag, i) => tag === b[i]);

/** `users` and `public.users` are one table. */
function tableName(table: string): string {
  return tableTag(table).slice('table:'.length);
}

/**
 * The query cache (L4 for SQL): SELECTs on opted-in tables go through `strata.cached`, tagged
 * with their tables and with the rows or lists they depend on; writes purge the rows they pinned,
 * or their whole tables, once they have succeeded (docs/architecture.md#query-cache). Call after
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
  const catalog = keyCatalog(driver, { ...(options.keys && { keys: options.keys }), refreshMs: options.keysRefreshMs });
  const { onTableChange, changesSchema, purgeTags, selectTags } = invalidation(catalog, tableName);
  /** Bumped whenever the schema may have changed: a write that overlaps it purges whole tables. */
  let schemaEpoch = 0;
  const schemaChanged = () => {
    schemaEpoch++;
    catalog.invalidate();
  };
  for (const [table, rule] of Object.entries(options.rules ?? {})) onTableChange(table, rule);
  // The first read of the keys now, not on the first query.
  await catalog.ready();

  const perQuery = new RecentKeys<{ sql: string; hits: number; misses: number; originMs: number; loads: number }>(
    MAX_TRACKED,
  );
  let refused = 0;

  // Parsing costs ~150 µs; applications send the same statement text with different parameters,
  // so analyses are kept per text (cleared whole when full, which keeps it O(1)).
  const analyses = new Map<string, Statement | undefined>();
  const analyze = (sql: string): Statement | undefined => {
    let statement = analyses.get(sql);
    if (statement === undefined && !analyses.has(sql)) {
      const analysis = analyzeSql(sql, views);
      statement = analysis && { analysis, digest: statementDigest(analysis.canonical) };
      if (analyses.size >= MAX_STATEMENTS) analyses.clear();
      analyses.set(sql, statement);
    }
    if (!statement) refused++;
    return statement;
  };

  // A unique-key lookup's tags are its result's rows, known only after a load: remembered here
  // per cache key, so that the next read asks the store for those rows' tag versions.
  const lookupTags = new Map<string, string[]>();

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

  const codec = resultCodec<unknown>();
  const remember = (key: string, tags: string[]) => {
    if (lookupTags.size >= MAX_STATEMENTS * 10 && !lookupTags.has(key)) lookupTags.clear();
    lookupTags.set(key, tags);
  };

  const cachedQuery = async <Row>(
    { analysis, digest }: Statement,
    sql: string,
    params: readonly unknown[],
    ttl: number,
    call: QueryOptions,
  ): Promise<SqlResult<Row>> => {
    const key = keyFor(digest, params); // the same key as queryKey(), without parsing twice
    const how = selectTags(analysis, params);
    const lookup = 'lookup' in how ? how.lookup : undefined;
    const assumed = lookup ? (lookupTags.get(key) ?? [listTag(lookup.table)]) : [];
    const tags = [...how.tags, ...assumed, ...(call.tags ?? [])];
    let loaded = false;
    let originMs = 0;
    const result = await strata.cached<CachedResult<Row>>(
      `sql:${key}`,
      async () => {
        loaded = true;
        const started = performance.now();
        const answer = await driver.query<Row>(sql, params);
        originMs = performance.now() - started;
        if (!lookup) return answer;
        const found = lookup.resultTags(answer.rows);
        remember(key, found);
        return { ...answer, found };
      },
      { ttl, tags, codec: codec as Codec<CachedResult<Row>> },
    );
    const entry = track(key, analysis.canonical);
    if (loaded) {
      entry.misses++;
      entry.loads++;
      entry.originMs += originMs;
    } else {
      entry.hits++;
    }
    if (!lookup) return result;
    const { found, ...answer } = result;
    // A lookup stored under other rows' tags than it found (a row took the key value meanwhile)
    // is not covered by them; only the list tag covers any row. Ask the database instead.
    const covered = loaded || assumed[0] === listTag(lookup.table) || sameTags(found, assumed);
    if (covered) return answer;
    const fresh = await driver.query<Row>(sql, params);
    remember(key, lookup.resultTags(fresh.rows));
    return fresh;
  };

  /** Runs one statement outside a transaction; a write's purge follows once it has answered. */
  const uncachedQuery = async <Row>(statement: Statement | undefined, sql: string, params: readonly unknown[]) => {
    const analysis = statement?.analysis;
    const pending = catalog.ready();
    if (pending) await pending;
    const epoch = schemaEpoch;
    const result = await driver.query<Row>(sql, params);
    if (changesSchema(analysis)) schemaChanged();
    // Autocommit: the statement is committed once it has answered, so now is "after commit".
    const tags = purgeTags(analysis, params, epoch === schemaEpoch);
    if (tags.length > 0) await strata.purge({ tags });
    return result;
  };

  const cache: QueryCache = {
    async query<Row>(sql: string, params: readonly unknown[] = [], call: QueryOptions = {}) {
      const statement = analyze(sql);
      const analysis = statement?.analysis;
      if (analysis?.kind === 'transaction') {
        // On a pool each statement may run on another connection: BEGIN here would be meaningless.
        throw new StrataError('E_QUERY_INVALID', 'transaction statements go through queryCache().transaction(fn)');
      }
      const ttl = analysis ? ttlFor(analysis, call) : undefined;
      if (statement && ttl !== undefined) {
        const pending = catalog.ready();
        if (pending) await pending;
        return cachedQuery<Row>(statement, sql, params, ttl, call);
      }
      return uncachedQuery<Row>(statement, sql, params);
    },

    async transaction(fn) {
      const tags = new Set<string>();
      const pending = catalog.ready();
      if (pending) await pending;
      const epoch = schemaEpoch;
      let changed = false;
      const result = await driver.transaction((tx) =>
        fn({
          async query<Row>(sql: string, params: readonly unknown[] = []) {
            const analysis = analyze(sql)?.analysis;
            if (analysis?.kind === 'transaction' && !SAVEPOINTS.has(analysis.transaction ?? 'begin')) {
              throw new StrataError('E_QUERY_INVALID', 'BEGIN, COMMIT and ROLLBACK are issued by transaction(fn)');
            }
            // Reads inside a transaction may see its own uncommitted writes: never cached, never served from cache.
            const answer = await tx.query<Row>(sql, params);
            // After a schema change in this transaction, the catalog read before it is out of date.
            if (changesSchema(analysis)) changed = true;
            for (const tag of purgeTags(analysis, params, !changed && epoch === schemaEpoch)) tags.add(tag);
            return answer;
          },
        }),
      );
      if (changed) schemaChanged();
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
