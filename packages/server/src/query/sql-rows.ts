// Which rows a statement touches, read from its parse tree: the equalities its WHERE (or an
// INSERT's VALUES) pins columns to. No key knowledge here — row-tags.ts decides whether the pinned
// columns are a key. Anything this cannot read with certainty yields undefined, and the caller
// falls back to the table (docs/architecture.md#query-cache).

import { qualifiedName } from './sql-tables.js';

type Json = Record<string, unknown>;

/** A value a column is pinned to: a parameter (`$n`; `= ANY($n)` makes it an array) or a literal. */
export type PinnedValue = { param: number; array?: true } | { literal: string | number | boolean | null };

/** Column → the values it may equal (several for `IN`); a row matches only if every column does. */
export type Pins = ReadonlyMap<string, readonly PinnedValue[]>;

/** What a result row's column is: a plain column of the table, or anything else. */
export type OutputColumn = { column: string } | { other: true };

export interface ReadShape {
  kind: 'read';
  table: string;
  pins: Pins;
  /** Result column name → where it comes from; undefined when a `*` and a named column could collide. */
  output: ReadonlyMap<string, OutputColumn> | undefined;
  /** `SELECT *` (or `t.*`): every column of the table is in the result under its own name. */
  star: boolean;
}

export interface WriteShape {
  kind: 'write';
  table: string;
  /** One entry per row set: an UPDATE/DELETE's WHERE, or each VALUES row of an INSERT. */
  rows: Pins[];
  /** Columns the statement assigns (UPDATE SET, ON CONFLICT DO UPDATE SET). */
  assigned: string[];
  /** INSERT … ON CONFLICT (cols) DO UPDATE: the conflict target, which must be the primary key. */
  conflictTarget?: string[];
}

export type RowShape = ReadShape | WriteShape;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function only(value: unknown): [string, Json] | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  const [first] = entries;
  return entries.length === 1 && first && isObject(first[1]) ? [first[0], first[1]] : undefined;
}

/** Is there a node of `type` anywhere under `node`? */
function contains(node: unknown, type: string): boolean {
  if (Array.isArray(node)) return node.some((item) => contains(item, type));
  if (!isObject(node)) return false;
  return Object.entries(node).some(([key, value]) => key === type || contains(value, type));
}

// Built-in functions that read nothing but their arguments. Any other function may read other
// rows (or tables), or write them: a statement calling one is not pinned to its rows.
const PURE_FUNCTIONS = new Set(
  [
    'count sum min max avg bool_and bool_or every array_agg string_agg json_agg jsonb_agg ',
    'json_object_agg jsonb_object_agg json_build_object jsonb_build_object json_build_array ',
    'jsonb_build_array to_json to_jsonb row_to_json lower upper length char_length trim btrim ',
    'ltrim rtrim substring substr replace concat concat_ws left right split_part position strpos ',
    'format to_char to_date to_timestamp to_number date_trunc date_part extract now age abs ',
    'round ceil ceiling floor trunc greatest least encode decode array_length cardinality unnest ',
    'row_number rank dense_rank lag lead first_value last_value',
  ]
    .join('')
    .split(' '),
);

/** Is there a call of a function not known to read only its arguments? */
function callsUnknownFunction(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(callsUnknownFunction);
  if (!isObject(node)) return false;
  return Object.entries(node).some(([key, value]) => {
    if (key === 'FuncCall' && isObject(value)) {
      const name = strings(value.funcname) ?? [];
      const schema = name.length > 1 ? name[0] : 'pg_catalog';
      if (schema !== 'pg_catalog' || !PURE_FUNCTIONS.has(name.at(-1) ?? '')) return true;
    }
    return callsUnknownFunction(value);
  });
}

function strings(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: string[] = [];
  for (const item of list) {
    const node = only(item);
    if (node?.[0] !== 'String' || typeof node[1].sval !== 'string') return undefined;
    out.push(node[1].sval);
  }
  return out;
}

interface Target {
  name: string;
  /** The alias, or the table's name when it has none; a qualified column must use it. */
  qualifier: string;
  schema: string | undefined;
}

function target(rangeVar: Json): Target | undefined {
  if (typeof rangeVar.relname !== 'string' || rangeVar.catalogname !== undefined) return undefined;
  const schema = typeof rangeVar.schemaname === 'string' ? rangeVar.schemaname : undefined;
  const alias = isObject(rangeVar.alias) ? rangeVar.alias : undefined;
  if (alias?.colnames !== undefined) return undefined; // renamed columns: not worth following
  const qualifier = typeof alias?.aliasname === 'string' ? alias.aliasname : rangeVar.relname;
  return { name: qualifiedName(schema, rangeVar.relname), qualifier, schema };
}

/** The column a ColumnRef names on `t`, or undefined (another relation, `*`, a field of a composite). */
function columnOf(node: unknown, t: Target): string | undefined {
  const ref = only(node);
  if (ref?.[0] !== 'ColumnRef') return undefined;
  const fields = strings(ref[1].fields);
  if (!fields) return undefined;
  if (fields.length === 1) return fields[0];
  if (fields.length === 2 && fields[0] === t.qualifier) return fields[1];
  const aliased = t.qualifier !== t.name.slice(t.name.indexOf('.') + 1);
  if (fields.length === 3 && !aliased && `${t.schema ?? 'public'}.${fields[1]}` === t.name) return fields[2];
  return undefined;
}

/** A parameter or a literal, through casts; undefined for any other expression. */
function pinnedValue(node: unknown): PinnedValue | undefined {
  const [type, body] = only(node) ?? [];
  if (!body) return undefined;
  if (type === 'TypeCast') return pinnedValue(body.arg);
  if (type === 'ParamRef') return typeof body.number === 'number' ? { param: body.number } : undefined;
  if (type !== 'A_Const') return undefined;
  if (body.isnull === true) return { literal: null };
  // libpg-query leaves zero and false out: `{ ival: {} }` is 0, `{ boolval: {} }` is false.
  if (isObject(body.ival)) return { literal: typeof body.ival.ival === 'number' ? body.ival.ival : 0 };
  if (isObject(body.fval) && typeof body.fval.fval === 'string') return { literal: body.fval.fval };
  if (isObject(body.sval) && typeof body.sval.sval === 'string') return { literal: body.sval.sval };
  if (isObject(body.boolval)) return { literal: body.boolval.boolval === true };
  return undefined;
}

type Pairs = Array<[string, PinnedValue[]]>;

/** `col = v`, `v = col`, `(a, b) = (v, w)`, `col IN (…)`, `col = ANY($n)`; undefined for anything else. */
function equality(node: unknown, t: Target): Pairs | undefined {
  const expr = only(node);
  if (expr?.[0] !== 'A_Expr') return undefined;
  const body = expr[1];
  const op = strings(body.name);
  if (op?.length !== 1 || op[0] !== '=') return undefined;
  if (body.kind === 'AEXPR_OP') {
    const left = only(body.lexpr);
    const right = only(body.rexpr);
    if (left?.[0] === 'RowExpr' && right?.[0] === 'RowExpr') return rowEquality(left[1], right[1], t);
    const pair = pinPair(body.lexpr, body.rexpr, t) ?? pinPair(body.rexpr, body.lexpr, t);
    return pair && [[pair[0], [pair[1]]]];
  }
  const column = columnOf(body.lexpr, t);
  if (column === undefined) return undefined;
  if (body.kind === 'AEXPR_IN') {
    const list = only(body.rexpr);
    if (list?.[0] !== 'List' || !Array.isArray(list[1].items)) return undefined;
    const values = list[1].items.map(pinnedValue);
    return values.every((v) => v !== undefined) ? [[column, values as PinnedValue[]]] : undefined;
  }
  if (body.kind === 'AEXPR_OP_ANY') {
    const value = pinnedValue(body.rexpr);
    return value && 'param' in value ? [[column, [{ param: value.param, array: true }]]] : undefined;
  }
  return undefined;
}

function pinPair(columnNode: unknown, valueNode: unknown, t: Target): [string, PinnedValue] | undefined {
  const column = columnOf(columnNode, t);
  const value = column === undefined ? undefined : pinnedValue(valueNode);
  return column !== undefined && value ? [column, value] : undefined;
}

function rowEquality(left: Json, right: Json, t: Target): Pairs | undefined {
  const l = Array.isArray(left.args) ? left.args : [];
  const r = Array.isArray(right.args) ? right.args : [];
  if (l.length === 0 || l.length !== r.length) return undefined;
  const pairs: Pairs = [];
  for (let i = 0; i < l.length; i++) {
    const pair = pinPair(l[i], r[i], t);
    if (!pair) return undefined;
    pairs.push([pair[0], [pair[1]]]);
  }
  return pairs;
}

/**
 * The pins of a WHERE: the equalities among its top-level AND terms. Other terms only narrow
 * the rows further, so they are ignored; an OR, or no WHERE, pins nothing.
 */
export function pinsOf(where: unknown, t: Target): Map<string, PinnedValue[]> {
  const pins = new Map<string, PinnedValue[]>();
  const bool = only(where);
  const terms = bool?.[0] === 'BoolExpr' && bool[1].boolop === 'AND_EXPR' ? bool[1].args : [where];
  for (const term of Array.isArray(terms) ? terms : []) {
    // A column pinned twice keeps its first values: the rows match both, so either set covers them.
    for (const [column, values] of equality(term, t) ?? []) if (!pins.has(column)) pins.set(column, values);
  }
  return pins;
}

function outputOf(targetList: unknown, t: Target): { output: Map<string, OutputColumn> | undefined; star: boolean } {
  const output = new Map<string, OutputColumn>();
  let star = false;
  let clash = false;
  for (const item of Array.isArray(targetList) ? targetList : []) {
    const res = only(item)?.[1];
    const ref = only(res?.val);
    const fields = ref?.[0] === 'ColumnRef' && Array.isArray(ref[1].fields) ? ref[1].fields : [];
    if (fields.length > 0 && only(fields.at(-1))?.[0] === 'A_Star') {
      star = true;
      continue;
    }
    const column = columnOf(res?.val, t);
    const name = typeof res?.name === 'string' ? res.name : column;
    if (name === undefined) continue; // an unnamed expression is called ?column?; no key is
    if (output.has(name)) clash = true;
    output.set(name, column !== undefined && name === column ? { column } : { other: true });
  }
  // With `*`, a named column that shadows a table column would make `row.id` ambiguous.
  return { output: clash || (star && output.size > 0) ? undefined : output, star };
}

function readShape(body: Json): ReadShape | undefined {
  if (body.op !== 'SETOP_NONE' || body.withClause !== undefined || body.intoClause !== undefined) return undefined;
  if (!Array.isArray(body.fromClause) || body.fromClause.length !== 1) return undefined;
  const from = only(body.fromClause[0]);
  const t = from?.[0] === 'RangeVar' ? target(from[1]) : undefined;
  // A subquery or a function anywhere could read the table again, outside the pinned rows.
  if (!t || contains(body, 'SubLink') || callsUnknownFunction(body)) return undefined;
  return { kind: 'read', table: t.name, pins: pinsOf(body.whereClause, t), ...outputOf(body.targetList, t) };
}

function assignedOf(targetList: unknown): string[] | undefined {
  const names: string[] = [];
  for (const item of Array.isArray(targetList) ? targetList : []) {
    const res = only(item)?.[1];
    // `SET col[1] = …` / `SET col.field = …` still assigns col.
    if (typeof res?.name !== 'string') return undefined;
    names.push(res.name);
  }
  return names;
}

function whereWrite(body: Json, extra: string): WriteShape | undefined {
  if (body.withClause !== undefined || body[extra] !== undefined) return undefined;
  const t = isObject(body.relation) ? target(body.relation) : undefined;
  if (!t || contains(body.whereClause, 'SubLink') || contains(body.whereClause, 'CurrentOfExpr')) return undefined;
  const assigned = assignedOf(body.targetList);
  if (!assigned) return undefined;
  return { kind: 'write', table: t.name, rows: [pinsOf(body.whereClause, t)], assigned };
}

function insertShape(body: Json): WriteShape | undefined {
  if (body.withClause !== undefined || !isObject(body.relation)) return undefined;
  const t = target(body.relation);
  const columns = assignedOf(body.cols);
  const select = only(body.selectStmt);
  const values = select?.[0] === 'SelectStmt' ? select[1].valuesLists : undefined;
  if (!t || !columns || columns.length === 0 || !Array.isArray(values)) return undefined;
  const rows: Pins[] = [];
  for (const list of values) {
    const items = only(list)?.[1].items;
    if (!Array.isArray(items) || items.length !== columns.length) return undefined;
    const pins = new Map<string, PinnedValue[]>();
    // DEFAULT or an expression leaves that column unpinned: a key there makes the row unknown.
    items.forEach((item, i) => {
      const value = pinnedValue(item);
      if (value && !('array' in value)) pins.set(columns[i] as string, [value]);
    });
    rows.push(pins);
  }
  const shape: WriteShape = { kind: 'write', table: t.name, rows, assigned: [] };
  const conflict = isObject(body.onConflictClause) ? body.onConflictClause : undefined;
  if (conflict?.action === 'ONCONFLICT_UPDATE') {
    const infer = isObject(conflict.infer) ? conflict.infer : {};
    const assigned = assignedOf(conflict.targetList);
    if (!assigned || infer.conname !== undefined || !Array.isArray(infer.indexElems)) return undefined;
    const elems = infer.indexElems.map((e) => only(e)?.[1].name);
    if (!elems.every((name) => typeof name === 'string')) return undefined;
    shape.assigned = assigned;
    shape.conflictTarget = elems as string[];
  }
  return shape;
}

/** The rows one statement reads or writes, as far as its text says; undefined when it cannot say. */
export function rowShape(stmt: unknown): RowShape | undefined {
  const [type, body] = only(stmt) ?? [];
  // A function may write other rows than the statement names.
  if (!body || callsUnknownFunction(body)) return undefined;
  switch (type) {
    case 'SelectStmt':
      return readShape(body);
    case 'UpdateStmt':
      return whereWrite(body, 'fromClause');
    case 'DeleteStmt':
      return whereWrite(body, 'usingClause');
    case 'InsertStmt':
      return insertShape(body);
    default:
      return undefined;
  }
}
