// The primary and unique keys of every table, read from PostgreSQL's catalog once, again after a
// DDL statement passed through the cache, and on an interval (for migrations run elsewhere).
// Declared keys override what the catalog says. Until the first read completes, or when it
// fails, no table has keys: every write then purges its whole table, as without row tags.

import { StrataError } from '@strata/policy';
import type { KeyColumn, KeyType, TableKeys } from './row-tags.js';
import type { SqlConnection } from './types.js';

/** Keys declared in configuration: column name → how its values compare. */
export interface DeclaredKeys {
  primary: Record<string, KeyType>;
  unique?: readonly Record<string, KeyType>[];
}

export interface KeyCatalogOptions {
  /** Keys by table (`schema.name`, or `name` in `public`), used instead of the catalog's. */
  keys?: Record<string, DeclaredKeys>;
  /** Milliseconds between catalog reads. Default 60,000. */
  refreshMs?: number | undefined;
  now?: () => number;
}

const TYPES: Record<string, KeyType> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  text: 'text',
  varchar: 'text',
  uuid: 'uuid',
};

// One row per key column of every unique, non-partial, plain-column index (INCLUDE columns
// excluded); tables without one appear once with NULLs, so their triggers are still known. The
// watcher's own trigger only sends a NOTIFY: it changes no row.
const CATALOG_SQL = `
SELECT n.nspname AS schema, c.relname AS name,
       (c.relhasrules OR EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal
                                  AND g.tgname <> 'strata_table_change')) AS side_effects,
       i.indexrelid::int8::text AS index, i.indisprimary AS is_primary, a.attname::text AS column, t.typname::text AS type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
LEFT JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON k.ord <= i.indnkeyatts
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
LEFT JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1, 2, 4, k.ord`;

interface CatalogRow {
  schema: string;
  name: string;
  side_effects: boolean;
  index: string | null;
  is_primary: boolean | null;
  column: string | null;
  type: string | null;
}

function tablesFrom(rows: readonly CatalogRow[]): Map<string, TableKeys> {
  const tables = new Map<
    string,
    { sideEffects: boolean; indexes: Map<string, { primary: boolean; columns: KeyColumn[] | undefined }> }
  >();
  for (const row of rows) {
    const name = `${row.schema}.${row.name}`;
    const table = tables.get(name) ?? { sideEffects: row.side_effects, indexes: new Map() };
    tables.set(name, table);
    if (row.index === null || row.column === null) continue;
    const index = table.indexes.get(row.index) ?? { primary: row.is_primary === true, columns: [] };
    table.indexes.set(row.index, index);
    const type = TYPES[row.type ?? ''];
    // One column of a type whose equality is not reproduced here makes the whole key unusable.
    index.columns = type && index.columns ? [...index.columns, { name: row.column, type }] : undefined;
  }
  const out = new Map<string, TableKeys>();
  for (const [name, table] of tables) {
    const usable = [...table.indexes.values()].filter((index) => index.columns !== undefined);
    out.set(name, {
      primary: usable.find((index) => index.primary)?.columns,
      unique: usable.filter((index) => !index.primary).map((index) => index.columns as KeyColumn[]),
      sideEffects: table.sideEffects,
    });
  }
  return out;
}

function declared(keys: DeclaredKeys, sideEffects: boolean): TableKeys {
  const columns = (record: Record<string, KeyType>) => Object.entries(record).map(([name, type]) => ({ name, type }));
  return { primary: columns(keys.primary), unique: (keys.unique ?? []).map(columns), sideEffects };
}

const KEY_TYPES: readonly KeyType[] = ['integer', 'text', 'uuid'];

/** Throws `E_CONFIG_INVALID` naming the first thing wrong with the declared keys or the interval. */
function check(options: KeyCatalogOptions): void {
  const fail = (message: string) => {
    throw new StrataError('E_CONFIG_INVALID', message);
  };
  const { refreshMs } = options;
  if (refreshMs !== undefined && !(Number.isFinite(refreshMs) && refreshMs > 0)) {
    fail('keysRefreshMs must be a positive number of milliseconds');
  }
  const columns = (table: string, what: string, record: unknown) => {
    if (typeof record !== 'object' || record === null || Object.keys(record).length === 0) {
      fail(`keys['${table}'].${what} must name at least one column`);
    }
    for (const [column, type] of Object.entries(record as object)) {
      if (!KEY_TYPES.includes(type)) fail(`keys['${table}'].${what}.${column} must be one of ${KEY_TYPES.join(', ')}`);
    }
  };
  for (const [table, keys] of Object.entries(options.keys ?? {})) {
    columns(table, 'primary', keys?.primary);
    if (keys.unique !== undefined && !Array.isArray(keys.unique)) fail(`keys['${table}'].unique must be a list`);
    for (const [i, unique] of (keys.unique ?? []).entries()) columns(table, `unique[${i}]`, unique);
  }
}

export interface KeyCatalog {
  /** The keys of `table` (`schema.name`), from the last read. */
  get(table: string): TableKeys | undefined;
  /** Undefined when the last read is current; otherwise the read under way. */
  ready(): Promise<void> | undefined;
  /** The schema may have changed: read again before the next use. */
  invalidate(): void;
  /** The last read's error, if it failed. */
  readonly error: unknown;
}

export function keyCatalog(db: SqlConnection, options: KeyCatalogOptions = {}): KeyCatalog {
  check(options);
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 60_000;
  const qualify = (name: string) => (name.includes('.') ? name : `public.${name}`);
  const config = new Map(Object.entries(options.keys ?? {}).map(([name, keys]) => [qualify(name), keys]));
  let tables = new Map<string, TableKeys>();
  let readAt = Number.NEGATIVE_INFINITY;
  let stale = true;
  let reading: Promise<void> | undefined;
  let error: unknown;

  const read = async () => {
    try {
      const result = await db.query<CatalogRow>(CATALOG_SQL);
      const next = tablesFrom(result.rows);
      for (const [name, keys] of config) next.set(name, declared(keys, next.get(name)?.sideEffects ?? false));
      tables = next;
      error = undefined;
    } catch (failure) {
      // Without the catalog nothing is known to be a key: every write purges its table.
      tables = new Map();
      error = failure;
    }
  };

  return {
    get: (table) => tables.get(table),
    ready() {
      if (!stale && now() - readAt < refreshMs) return reading;
      stale = false;
      readAt = now();
      // After a DDL statement, a read already under way may predate it: the new one runs after.
      const next: Promise<void> = (reading ?? Promise.resolve()).then(read).finally(() => {
        if (reading === next) reading = undefined;
      });
      reading = next;
      return next;
    },
    invalidate() {
      stale = true;
    },
    get error() {
      return error;
    },
  };
}
