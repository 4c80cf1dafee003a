// SQL analysis for the query cache: which tables a statement reads and writes (the invalidation
// tags), what kind of statement it is, and a canonical form for the cache key. Everything comes from
// PostgreSQL's own parser (libpg-query, compiled to WebAssembly), never from guessing: a statement
// the parser rejects yields undefined and must not be cached.

import { StrataError } from '@strata/policy';
import { loadPeer } from '../optional-peer.js';
import { keyOf } from './sql-params.js';
import { type RowShape, rowShape } from './sql-rows.js';
import { normalizeViews, TableWalker } from './sql-tables.js';

export type SqlKind =
  | 'select'
  | 'insert'
  | 'update'
  | 'delete'
  | 'truncate'
  | 'merge'
  | 'copy-from'
  | 'copy-to'
  | 'transaction'
  | 'other';

export type SqlTransaction = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback-to';

export interface SqlAnalysis {
  /** For several statements in one string: 'other' unless all are selects (then 'select'). */
  kind: SqlKind;
  /** Tables read, 'schema.name', sorted, unique. */
  read: string[];
  /** Tables written, 'schema.name', sorted, unique. */
  written: string[];
  /** Canonical form of the statement: whitespace, comments and formatting removed, literals kept. Equal for two spellings of one query. */
  canonical: string;
  /** For 'transaction': which one. */
  transaction?: SqlTransaction;
  /** For one SELECT, UPDATE, DELETE or INSERT on one table: the columns it pins (sql-rows.ts). */
  rows?: RowShape;
}

export interface SqlOptions {
  /** Declared views: a view name ('name' or 'schema.name') → the tables (or views) it reads. */
  views?: Record<string, string[]>;
}

// The WebAssembly module is process-wide state inside libpg-query; `parse` is set once it is loaded.
// libpg-query is imported here, on first use, so importing the query cache does not load it.
let loading: Promise<void> | undefined;
let parse: ((sql: string) => unknown) | undefined;

/** Loads the PostgreSQL parser (libpg-query, WebAssembly) once; idempotent; call before the sync functions. */
export async function loadSqlParser(): Promise<void> {
  loading ??= (async () => {
    const parser = await loadPeer('libpg-query', 'The SQL parser of the query cache', () => import('libpg-query'));
    await parser.loadModule();
    parse = parser.parseSync;
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

const TRANSACTIONS: Record<string, SqlTransaction> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release',
  TRANS_STMT_ROLLBACK_TO: 'rollback-to',
  // PREPARE TRANSACTION / COMMIT PREPARED / ROLLBACK PREPARED have no member here: they stay 'other'.
};

/** Undefined when the parser cannot understand the statement (it must then never be cached). Throws if the parser is not loaded. */
export function analyzeSql(sql: string, options?: SqlOptions): SqlAnalysis | undefined {
  const stmts = parseStatements(sql);
  if (stmts === undefined) return undefined;
  const kinds: SqlKind[] = [];
  let transaction: SqlTransaction | undefined;
  const walker = new TableWalker(normalizeViews(options?.views));
  for (const stmt of stmts) {
    const writersBefore = walker.access.writers.length;
    walker.statement(stmt);
    const nestedWriters = walker.access.writers.slice(writersBefore);
    const [type, body] = Object.entries(stmt)[0] ?? ['', undefined];
    const found = kindOf(type, body, nestedWriters);
    kinds.push(found.kind);
    transaction = found.transaction;
  }
  const kind: SqlKind =
    kinds.length === 1 ? (kinds[0] ?? 'other') : kinds.every((k) => k === 'select') ? 'select' : 'other';
  const analysis: SqlAnalysis = {
    kind,
    read: [...walker.access.read].sort(),
    written: [...walker.access.written].sort(),
    canonical: canonicalJson(stmts),
  };
  if (kind === 'transaction' && transaction !== undefined) analysis.transaction = transaction;
  const rows = stmts.length === 1 ? rowShape(stmts[0]) : undefined;
  if (rows) analysis.rows = rows;
  return analysis;
}

/** The issue's export: tables read and written, or undefined when unparseable. */
export function tablesFromSql(sql: string, options?: SqlOptions): { read: string[]; written: string[] } | undefined {
  const analysis = analyzeSql(sql, options);
  return analysis && { read: analysis.read, written: analysis.written };
}

/**
 * Cache key: one sha256 (base64url) over the digest of the canonical SQL and the JSON of the
 * parameter values; undefined when unparseable. Parameters are encoded by `encodeParams` in
 * sql-params.ts (Date as UTC ISO, bigint as digits, bytes as base64, each tagged so that no string
 * or object can collide with them).
 */
export function queryKey(sql: string, params?: readonly unknown[]): string | undefined {
  const stmts = parseStatements(sql);
  if (stmts === undefined) return undefined;
  return keyOf(canonicalJson(stmts), params);
}

type Statement = Record<string, unknown>;

function parseStatements(sql: string): Statement[] | undefined {
  if (!parse) {
    throw new StrataError('E_CONFIG_INVALID', 'the SQL parser is not loaded: await loadSqlParser() first');
  }
  let result: { stmts?: { stmt?: unknown }[] };
  try {
    result = parse(sql) as { stmts?: { stmt?: unknown }[] };
  } catch {
    return undefined;
  }
  const stmts = (result.stmts ?? []).map((raw) => raw.stmt);
  // An empty string or a comment alone parses to nothing: there is no query to cache.
  if (stmts.length === 0 || !stmts.every(isStatement)) return undefined;
  return stmts;
}

function isStatement(value: unknown): value is Statement {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 1;
}

function kindOf(
  type: string,
  body: unknown,
  writers: readonly string[],
): { kind: SqlKind; transaction?: SqlTransaction } {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  switch (type) {
    case 'SelectStmt':
      // SELECT … INTO creates a table; a SELECT whose WITH holds an INSERT/UPDATE/DELETE/MERGE
      // writes — report the write, so that nobody caches it as a read.
      if (fields.intoClause !== undefined) return { kind: 'other' };
      return { kind: (writers[0] as SqlKind | undefined) ?? 'select' };
    case 'InsertStmt':
      return { kind: 'insert' };
    case 'UpdateStmt':
      return { kind: 'update' };
    case 'DeleteStmt':
      return { kind: 'delete' };
    case 'MergeStmt':
      return { kind: 'merge' };
    case 'TruncateStmt':
      return { kind: 'truncate' };
    case 'CopyStmt':
      return { kind: fields.is_from === true ? 'copy-from' : 'copy-to' };
    case 'TransactionStmt': {
      const transaction = TRANSACTIONS[String(fields.kind)];
      return transaction === undefined ? { kind: 'other' } : { kind: 'transaction', transaction };
    }
    default:
      return { kind: 'other' };
  }
}

const POSITION_KEYS = new Set(['location', 'stmt_location', 'stmt_len']);

/** JSON of the parse tree with sorted keys and every source position removed. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([key]) => !POSITION_KEYS.has(key))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
