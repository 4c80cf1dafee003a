// From a statement's pinned columns to invalidation tags, given the table's keys. Every cached
// query on a table carries `table:<t>`; one pinned to primary-key values carries `row:<t>:<key>`
// per row, any other carries `list:<t>`. A write pinned to primary-key values purges those rows'
// tags and the list tag; any other write purges the table tag (docs/architecture.md#query-cache).

import { createHash } from 'node:crypto';
import { encodeTagValue, TAG_MAX_BYTES } from '@strata/policy';
import type { PinnedValue, Pins, ReadShape, WriteShape } from './sql-rows.js';

/** How a key column's values are compared: the types whose equality this module can reproduce. */
export type KeyType = 'integer' | 'text' | 'uuid';

export interface KeyColumn {
  name: string;
  type: KeyType;
}

/** What the cache knows of one table. */
export interface TableKeys {
  /** Undefined when the table has no primary key whose columns are all of a `KeyType`. */
  primary: readonly KeyColumn[] | undefined;
  /** Other unique keys (no predicate, no expression), each of `KeyType` columns. */
  unique: readonly (readonly KeyColumn[])[];
  /** Triggers or rules may change other rows than the statement names: every write purges the table. */
  sideEffects: boolean;
}

export const listTag = (table: string): string => `list:${table}`;

const INTEGER = /^\s*[+-]?\d+\s*$/;
const UUID = /^[0-9a-f]{32}$/;

/**
 * The canonical text of a key value as PostgreSQL would compare it on a column of `type`, or
 * undefined when this cannot be sure (then the caller falls back to a wider tag). `'01'`, `1`
 * and `1n` are one integer; a uuid in any case, with or without hyphens or braces, is one uuid.
 */
export function canonicalKey(type: KeyType, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (type === 'integer') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
    if (typeof value === 'string' && INTEGER.test(value)) return BigInt(value.trim()).toString();
    return undefined;
  }
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return undefined;
  if (type === 'text') return String(value);
  const hex = String(value)
    .toLowerCase()
    .replace(/^\{(.*)\}$/, '$1')
    .replaceAll('-', '');
  return UUID.test(hex) ? hex : undefined;
}

/** One row's tag: the key values, each encoded so that no value can pass for two. */
export function rowTag(table: string, values: readonly string[]): string {
  const tag = `row:${table}:${values.map((v) => encodeTagValue(v).replaceAll(':', '%3A')).join(':')}`;
  if (tag.length <= TAG_MAX_BYTES) return tag;
  return `row:${table}:#${createHash('sha256').update(JSON.stringify(values)).digest('base64url')}`;
}

/** The raw values a pin stands for with these parameters; undefined when one cannot be read. */
function resolve(pinned: readonly PinnedValue[], params: readonly unknown[]): unknown[] | undefined {
  const out: unknown[] = [];
  for (const value of pinned) {
    if ('literal' in value) out.push(value.literal);
    else if (value.param < 1 || value.param > params.length) return undefined;
    else if (value.array) {
      const list = params[value.param - 1];
      if (!Array.isArray(list)) return undefined;
      out.push(...list);
    } else out.push(params[value.param - 1]);
  }
  return out;
}

const MAX_ROWS = 100;

/**
 * The canonical key tuples `pins` select on `key`; undefined when a key column is not pinned,
 * a value cannot be made canonical (NULL too), or there would be more than 100 rows.
 */
export function keyTuples(key: readonly KeyColumn[], pins: Pins, params: readonly unknown[]): string[][] | undefined {
  let tuples: string[][] = [[]];
  for (const column of key) {
    const pinned = pins.get(column.name);
    const raw = pinned && resolve(pinned, params);
    if (!raw || raw.length === 0) return undefined;
    const values = new Set<string>();
    for (const value of raw) {
      const canonical = canonicalKey(column.type, value);
      if (canonical === undefined) return undefined;
      values.add(canonical);
    }
    tuples = tuples.flatMap((tuple) => [...values].map((value) => [...tuple, value]));
    if (tuples.length > MAX_ROWS) return undefined;
  }
  return tuples;
}

/** What a SELECT is tagged with beyond its table tags. */
export type ReadTags =
  | { rows: string[] }
  /** Pinned on a unique key: the result's primary keys name the rows (the list tag when none). */
  | { lookup: true }
  | { list: true };

/** How a single-table SELECT is tagged, given the table's keys. */
export function readTags(shape: ReadShape, keys: TableKeys | undefined, params: readonly unknown[]): ReadTags {
  if (!keys?.primary) return { list: true };
  const tuples = keyTuples(keys.primary, shape.pins, params);
  if (tuples) return { rows: tuples.map((tuple) => rowTag(shape.table, tuple)) };
  const primary = keys.primary;
  // The result must carry the primary key under its own name, or its rows cannot be named.
  const returnsKey = primary.every((column) => {
    const output = shape.output?.get(column.name);
    return output ? 'column' in output : shape.star && shape.output !== undefined;
  });
  const pinsUnique = keys.unique.some((unique) => keyTuples(unique, shape.pins, params) !== undefined);
  return returnsKey && pinsUnique ? { lookup: true } : { list: true };
}

/** The row tags of a lookup's result; undefined when a row's key cannot be read from it. */
export function resultRowTags(table: string, primary: readonly KeyColumn[], rows: readonly unknown[]) {
  const tags: string[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    const tuple = primary.map((column) => canonicalKey(column.type, record[column.name]));
    if (tuple.some((value) => value === undefined)) return undefined;
    tags.push(rowTag(table, tuple as string[]));
  }
  return tags;
}

/**
 * The tags a successful write purges on its table: its rows' tags and the list tag, or undefined
 * when the table tag must go (no key, a key column assigned, side effects, rows not pinned).
 */
export function writeTags(shape: WriteShape, keys: TableKeys | undefined, params: readonly unknown[]) {
  const primary = keys?.primary;
  if (!keys || !primary || keys.sideEffects) return undefined;
  if (shape.assigned.some((name) => primary.some((column) => column.name === name))) return undefined;
  if (shape.conflictTarget) {
    const target = new Set(shape.conflictTarget);
    if (target.size !== primary.length || !primary.every((column) => target.has(column.name))) return undefined;
  }
  const tags = new Set<string>();
  for (const pins of shape.rows) {
    const tuples = keyTuples(primary, pins, params);
    if (!tuples) return undefined;
    for (const tuple of tuples) tags.add(rowTag(shape.table, tuple));
  }
  if (tags.size > MAX_ROWS) return undefined;
  tags.add(listTag(shape.table));
  return [...tags];
}
