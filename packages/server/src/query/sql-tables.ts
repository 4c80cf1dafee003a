// Tables read and written by a libpg-query parse tree. The walk is generic — it recurses through
// every object and array and collects RangeVar nodes — so expressions, joins, subqueries and set
// operations need no case of their own. Only three things get special handling: WITH clauses (a CTE
// name is not a table, within its scope), the target relation of a writing statement, and the
// statements whose relations are written rather than read.

type Json = Record<string, unknown>;

export type WritingKind = 'insert' | 'update' | 'delete' | 'merge';

/** What a walk found; `writers` lists the writing statements met anywhere (data-modifying CTEs too). */
export interface TableAccess {
  read: Set<string>;
  written: Set<string>;
  writers: WritingKind[];
}

const WRITERS: Record<string, WritingKind> = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
};

// DROP of these object types removes a relation whose cached reads must go.
const DROPPED_RELATIONS = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE']);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RangeVar appears both wrapped (`{ RangeVar: {...} }`) and bare (`InsertStmt.relation`); match the bare shape. */
function isRangeVar(value: unknown): value is Json & { relname: string } {
  return isObject(value) && typeof value.relname === 'string' && 'relpersistence' in value;
}

/** `schema.name`; unqualified names resolve to `public` (the default search_path), the catalog is dropped. */
export function qualifiedName(schema: string | undefined, name: string): string {
  return `${schema ?? 'public'}.${name}`;
}

/** Normalizes the keys and values of a views map to `schema.name`. */
export function normalizeViews(views: Record<string, string[]> | undefined): Map<string, string[]> {
  const qualify = (name: string) => (name.includes('.') ? name : qualifiedName(undefined, name));
  const map = new Map<string, string[]>();
  for (const [view, bases] of Object.entries(views ?? {})) map.set(qualify(view), bases.map(qualify));
  return map;
}

export class TableWalker {
  readonly access: TableAccess = { read: new Set(), written: new Set(), writers: [] };
  readonly #views: Map<string, string[]>;

  constructor(views: Map<string, string[]>) {
    this.#views = views;
  }

  /** Walks one top-level statement (`{ SelectStmt: {...} }` etc.). */
  statement(stmt: unknown): void {
    if (!isObject(stmt)) return;
    for (const [type, body] of Object.entries(stmt)) {
      const walked = type in WRITERS || type === 'TruncateStmt' || type === 'CopyStmt' || type === 'SelectStmt';
      if (walked) this.#visit({ [type]: body }, new Set());
      else if (isObject(body)) this.#otherStatement(type, body);
    }
  }

  // DDL and utility statements: a relation named directly by the statement (ALTER TABLE t, REFRESH
  // MATERIALIZED VIEW m, LOCK t, CREATE INDEX ON t, DROP TABLE t) counts as written, so that cached
  // reads of it are purged; anything deeper (a view's query, EXPLAIN's statement) is walked as usual.
  #otherStatement(type: string, body: Json): void {
    for (const [key, value] of Object.entries(body)) {
      if (isRangeVar(value)) this.#add(this.access.written, value);
      else if (key === 'relations' && Array.isArray(value)) {
        for (const item of value)
          if (isObject(item) && isRangeVar(item.RangeVar)) this.#add(this.access.written, item.RangeVar);
      } else if (type === 'DropStmt' && key === 'objects' && DROPPED_RELATIONS.has(String(body.removeType))) {
        for (const names of Array.isArray(value) ? value : []) this.#addDropped(names);
      } else this.#visit({ [key]: value }, new Set()); // keyed, so that `into` is recognized
    }
  }

  #addDropped(names: unknown): void {
    const items = isObject(names) && isObject(names.List) && Array.isArray(names.List.items) ? names.List.items : [];
    const parts = items.map((item) => (isObject(item) && isObject(item.String) ? String(item.String.sval) : ''));
    const name = parts.at(-1);
    if (name) this.#addName(this.access.written, qualifiedName(parts.length > 1 ? parts.at(-2) : undefined, name));
  }

  #visit(node: unknown, ctes: ReadonlySet<string>): void {
    if (Array.isArray(node)) {
      for (const item of node) this.#visit(item, ctes);
      return;
    }
    if (!isObject(node)) return;
    if (isRangeVar(node)) {
      // A CTE shadows a table only for an unqualified name; `public.users` is always the table.
      const isCte = node.schemaname === undefined && node.catalogname === undefined && ctes.has(node.relname);
      if (!isCte) this.#add(this.access.read, node);
      return;
    }
    const scope = isObject(node.withClause) ? this.#with(node.withClause, ctes) : ctes;
    for (const [key, value] of Object.entries(node)) {
      // `FOR UPDATE OF j` names a FROM item by alias, not a table.
      if (key === 'withClause' || key === 'lockedRels') continue;
      const writer = WRITERS[key];
      if (writer !== undefined && isObject(value)) this.#writer(writer, value, scope);
      else if (key === 'TruncateStmt' && isObject(value)) this.#truncate(value);
      else if (key === 'CopyStmt' && isObject(value)) this.#copy(value, scope);
      else if ((key === 'intoClause' || key === 'into') && isObject(value) && isRangeVar(value.rel)) {
        // SELECT … INTO t / CREATE TABLE t AS: t is created and filled.
        this.#add(this.access.written, value.rel);
      } else this.#visit(value, scope);
    }
  }

  /** Walks the CTE queries in their own scopes and returns the scope of the statement body. */
  #with(withClause: Json, outer: ReadonlySet<string>): ReadonlySet<string> {
    const ctes = (Array.isArray(withClause.ctes) ? withClause.ctes : [])
      .map((cte) => (isObject(cte) && isObject(cte.CommonTableExpr) ? cte.CommonTableExpr : undefined))
      .filter((cte) => cte !== undefined);
    const names = ctes.map((cte) => String(cte.ctename));
    const all = new Set([...outer, ...names]);
    ctes.forEach((cte, index) => {
      // WITH RECURSIVE: every name is visible in every CTE. Plain WITH: a CTE sees only the ones
      // before it — in its own query its name still means the table (`WITH users AS (… FROM users)`).
      const visible = withClause.recursive === true ? all : new Set([...outer, ...names.slice(0, index)]);
      this.#visit(cte.ctequery, visible);
    });
    return all;
  }

  // The target of INSERT/UPDATE/DELETE/MERGE is never a CTE (PostgreSQL resolves it as a table).
  #writer(kind: WritingKind, stmt: Json, ctes: ReadonlySet<string>): void {
    this.access.writers.push(kind);
    const scope = isObject(stmt.withClause) ? this.#with(stmt.withClause, ctes) : ctes;
    if (isRangeVar(stmt.relation)) this.#add(this.access.written, stmt.relation);
    for (const [key, value] of Object.entries(stmt)) {
      if (key !== 'relation' && key !== 'withClause') this.#visit(value, scope);
    }
  }

  #truncate(stmt: Json): void {
    for (const item of Array.isArray(stmt.relations) ? stmt.relations : []) {
      if (isObject(item) && isRangeVar(item.RangeVar)) this.#add(this.access.written, item.RangeVar);
    }
  }

  #copy(stmt: Json, ctes: ReadonlySet<string>): void {
    if (isRangeVar(stmt.relation))
      this.#add(stmt.is_from === true ? this.access.written : this.access.read, stmt.relation);
    this.#visit(stmt.query, ctes);
    this.#visit(stmt.whereClause, ctes);
  }

  #add(into: Set<string>, rangeVar: Json & { relname: string }): void {
    const schema = typeof rangeVar.schemaname === 'string' ? rangeVar.schemaname : undefined;
    this.#addName(into, qualifiedName(schema, rangeVar.relname));
  }

  /** Adds a name, replacing a declared view by its base tables (recursively; a cycle stops at the repeat). */
  #addName(into: Set<string>, name: string, seen: ReadonlySet<string> = new Set()): void {
    const bases = this.#views.get(name);
    if (bases === undefined || seen.has(name)) {
      into.add(name);
      return;
    }
    const next = new Set([...seen, name]);
    for (const base of bases) this.#addName(into, base, next);
  }
}
