// The tags of the query cache: what a cached SELECT carries and what a successful write purges.
// Row-level where the statement pins primary-key values and the table's keys are known; the
// whole table otherwise (docs/architecture.md#query-cache).

import type { KeyCatalog } from './key-catalog.js';
import { listTag, readTags, resultRowTags, writeTags } from './row-tags.js';
import type { SqlAnalysis } from './sql.js';

/** What a write to a table also invalidates (the seed's model invalidation rules). */
export interface TableRule {
  /** Extra tags purged with the table's own. */
  tags?: readonly string[];
  /** Tables whose cached queries are purged too (`table:<schema>.<name>`). */
  related?: readonly string[];
}

/** How a SELECT is tagged: fixed tags, or (a unique-key lookup) tags its result decides. */
export type SelectTags =
  | { tags: string[] }
  | { tags: string[]; lookup: { table: string; resultTags: (rows: readonly unknown[]) => string[] } };

const SESSION_ONLY = /"Variable(?:Set|Show)Stmt"/;

export function invalidation(catalog: KeyCatalog, tableName: (table: string) => string) {
  const rules = new Map<string, { tags: Set<string>; related: Set<string> }>();
  /** Every table a cached query has read: what a statement of unknown effect may have changed. */
  const seenTables = new Set<string>();

  const onTableChange = (table: string, rule: TableRule) => {
    const name = tableName(table);
    const current = rules.get(name) ?? { tags: new Set<string>(), related: new Set<string>() };
    for (const tag of rule.tags ?? []) current.tags.add(tag);
    for (const related of rule.related ?? []) current.related.add(tableName(related));
    rules.set(name, current);
  };

  /** True for statements that may change the schema: the catalog is read again before the next use. */
  const changesSchema = (analysis: SqlAnalysis | undefined): boolean =>
    !analysis || (analysis.kind === 'other' && !SESSION_ONLY.test(analysis.canonical));

  /**
   * The tags a successful statement invalidates. `rowLevel: false` (a transaction that changed
   * the schema) makes every write purge its tables whole.
   */
  const purgeTags = (analysis: SqlAnalysis | undefined, params: readonly unknown[], rowLevel = true): string[] => {
    // A statement the parser cannot read, or one whose effect it cannot see (DO blocks, CALL,
    // functions), may have written anything: every table cached queries read is purged. Session
    // settings (SET, SHOW) change no data.
    if (!analysis || (analysis.kind === 'other' && analysis.written.length === 0)) {
      if (analysis && SESSION_ONLY.test(analysis.canonical)) return [];
      return [...seenTables].map((table) => `table:${table}`);
    }
    const tags = new Set<string>();
    const shape = analysis.rows;
    const single = analysis.written.length === 1 && shape?.kind === 'write' && analysis.written[0] === shape.table;
    const rows = rowLevel && single ? writeTags(shape, catalog.get(shape.table), params) : undefined;
    for (const table of analysis.written) {
      if (!rows) tags.add(`table:${table}`);
      const rule = rules.get(table);
      for (const tag of rule?.tags ?? []) tags.add(tag);
      for (const related of rule?.related ?? []) tags.add(`table:${related}`);
    }
    for (const tag of rows ?? []) tags.add(tag);
    return [...tags];
  };

  /** The tags of a cacheable SELECT: its tables', then its rows' or its tables' list tags. */
  const selectTags = (analysis: SqlAnalysis, params: readonly unknown[]): SelectTags => {
    for (const table of analysis.read) seenTables.add(table);
    const tags = analysis.read.map((table) => `table:${table}`);
    const shape = analysis.rows;
    const single = analysis.read.length === 1 && shape?.kind === 'read' && analysis.read[0] === shape.table;
    const keys = single ? catalog.get(shape.table) : undefined;
    const how = single ? readTags(shape, keys, params) : { list: true as const };
    if ('rows' in how) return { tags: [...tags, ...how.rows] };
    if ('lookup' in how && shape && keys?.primary) {
      const { table } = shape;
      const primary = keys.primary;
      const resultTags = (rows: readonly unknown[]) =>
        (rows.length === 0 ? undefined : resultRowTags(table, primary, rows)) ?? [listTag(table)];
      return { tags, lookup: { table, resultTags } };
    }
    return { tags: [...tags, ...analysis.read.map(listTag)] };
  };

  return { onTableChange, changesSchema, purgeTags, selectTags };
}
