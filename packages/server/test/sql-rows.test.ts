import { beforeAll, describe, expect, it } from 'vitest';
import { invalidation } from '../src/query/invalidation.js';
import { type KeyCatalog, keyCatalog } from '../src/query/key-catalog.js';
import { canonicalKey, rowTag, type TableKeys } from '../src/query/row-tags.js';
import { analyzeSql, loadSqlParser } from '../src/query/sql.js';

beforeAll(async () => {
  await loadSqlParser();
});

// The keys the catalog would report for this schema (key-catalog.ts reads them from PostgreSQL;
// the integration suite checks that part against a real database).
const KEYS: Record<string, TableKeys> = {
  'public.users': {
    primary: [{ name: 'id', type: 'integer' }],
    unique: [[{ name: 'email', type: 'text' }]],
    sideEffects: false,
  },
  'public.members': {
    primary: [
      { name: 'org_id', type: 'integer' },
      { name: 'user_id', type: 'integer' },
    ],
    unique: [],
    sideEffects: false,
  },
  'app.docs': { primary: [{ name: 'id', type: 'uuid' }], unique: [], sideEffects: false },
  'public.audited': { primary: [{ name: 'id', type: 'integer' }], unique: [], sideEffects: true },
  'public.logs': { primary: undefined, unique: [], sideEffects: false },
};

const catalog: KeyCatalog = {
  get: (table) => KEYS[table],
  ready: () => undefined,
  invalidate: () => {},
  error: undefined,
};

const row = (table: string, ...values: string[]) => rowTag(table, values);
const U = 'public.users';
const T = 'table:public.users';
const L = 'list:public.users';

function analyze(sql: string) {
  const analysis = analyzeSql(sql);
  if (!analysis) throw new Error(`unparseable: ${sql}`);
  return analysis;
}

function selectTags(sql: string, params: unknown[] = []) {
  const found = invalidation(catalog, (t) => t).selectTags(analyze(sql), params);
  return 'lookup' in found ? ['lookup', ...found.tags] : found.tags;
}

function purgeTags(sql: string, params: unknown[] = []) {
  return invalidation(catalog, (t) => t)
    .purgeTags(analyze(sql), params)
    .sort();
}

// [statement, parameters, the tags it carries]
const READS: [string, unknown[], string[]][] = [
  ['SELECT * FROM users WHERE id = $1', [7], [T, row(U, '7')]],
  ['SELECT name FROM users WHERE id = 7', [], [T, row(U, '7')]],
  ['SELECT * FROM users WHERE 7 = id', [], [T, row(U, '7')]],
  ['SELECT * FROM users WHERE id = $1::int', ['07'], [T, row(U, '7')]],
  ['SELECT * FROM users u WHERE u.id = $1', [1], [T, row(U, '1')]],
  ['SELECT * FROM public.users WHERE public.users.id = $1', [1], [T, row(U, '1')]],
  ['SELECT * FROM users WHERE id IN (1, 2, $1)', [2], [T, row(U, '1'), row(U, '2')]],
  ['SELECT * FROM users WHERE id = ANY($1)', [[3, '4']], [T, row(U, '3'), row(U, '4')]],
  ['SELECT * FROM users WHERE id = $1 AND name <> $2', [5, 'x'], [T, row(U, '5')]],
  ['SELECT count(*) FROM users WHERE id = $1', [5], [T, row(U, '5')]],
  [
    'SELECT * FROM members WHERE org_id = $1 AND user_id = $2',
    [1, 2],
    ['table:public.members', row('public.members', '1', '2')],
  ],
  [
    'SELECT * FROM members WHERE (org_id, user_id) = ($1, $2)',
    [1, 2],
    ['table:public.members', row('public.members', '1', '2')],
  ],
  [
    'SELECT * FROM app.docs WHERE id = $1',
    ['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'],
    ['table:app.docs', row('app.docs', 'a0eebc999c0b4ef8bb6d6bb9bd380a11')],
  ],
  // Unique non-key lookups: tagged by the rows they find.
  ['SELECT * FROM users WHERE email = $1', ['a@x'], ['lookup', T]],
  ['SELECT id, name FROM users WHERE email = $1', ['a@x'], ['lookup', T]],
  // Fallbacks: the list tag.
  ['SELECT name FROM users WHERE email = $1', ['a@x'], [T, L]], // no key in the result
  ['SELECT email AS id FROM users WHERE email = $1', ['a@x'], [T, L]], // `id` is not the key
  ['SELECT *, 1 AS id FROM users WHERE email = $1', ['a@x'], [T, L]],
  ['SELECT * FROM users', [], [T, L]],
  ['SELECT * FROM users WHERE id > $1 ORDER BY id LIMIT 20', [1], [T, L]],
  ['SELECT * FROM users WHERE id = $1 OR id = $2', [1, 2], [T, L]],
  ['SELECT * FROM users WHERE id = $1', [null], [T, L]],
  ['SELECT * FROM users WHERE id = $1', [1.5], [T, L]],
  ['SELECT * FROM users WHERE id = $1', ['abc'], [T, L]],
  ['SELECT * FROM users WHERE id = ANY($1)', [5], [T, L]],
  ['SELECT * FROM users WHERE id = $1 + 1', [1], [T, L]],
  ['SELECT * FROM users WHERE other.id = $1', [1], [T, L]],
  ['SELECT * FROM members WHERE org_id = $1', [1], ['table:public.members', 'list:public.members']],
  ['SELECT * FROM users u JOIN users v ON v.id = u.id WHERE u.id = $1', [1], [T, L]],
  ['SELECT * FROM users WHERE id = $1 AND id IN (SELECT id FROM users)', [1], [T, L]],
  ['WITH u AS (SELECT * FROM users) SELECT * FROM u WHERE id = $1', [1], [T, L]],
  ['SELECT * FROM users WHERE id = $1 UNION SELECT * FROM users WHERE id = $2', [1, 2], [T, L]],
  ['SELECT * FROM logs WHERE id = $1', [1], ['table:public.logs', 'list:public.logs']],
  ['SELECT lower(name), count(*) FROM users WHERE id = $1 GROUP BY 1', [1], [T, row(U, '1')]],
  ['SELECT * FROM users WHERE id = $1 AND is_visible(id)', [1], [T, L]], // may read other rows
  ['SELECT app.score(id) FROM users WHERE id = $1', [1], [T, L]],
  [
    'SELECT * FROM users u JOIN members m ON m.user_id = u.id WHERE u.id = $1',
    [1],
    ['table:public.members', T, 'list:public.members', L],
  ],
];

const WRITES: [string, unknown[], string[]][] = [
  ['UPDATE users SET name = $2 WHERE id = $1', [1, 'a'], [L, row(U, '1')]],
  ['UPDATE users SET name = $2 WHERE id = $1', ['01', 'a'], [L, row(U, '1')]],
  ['UPDATE users SET name = $1 WHERE id = $2 AND name = $3 RETURNING *', ['a', 2, 'b'], [L, row(U, '2')]],
  ['UPDATE users SET email = $2 WHERE id = $1', [1, 'b@x'], [L, row(U, '1')]],
  ['UPDATE users SET name = (SELECT max(name) FROM logs) WHERE id = 1', [], [L, row(U, '1')]],
  ['DELETE FROM users WHERE id = $1', [3], [L, row(U, '3')]],
  ['DELETE FROM users WHERE id IN ($1, $2)', [3, 4], [L, row(U, '3'), row(U, '4')]],
  [
    'DELETE FROM members WHERE org_id = 1 AND user_id = 2',
    [],
    ['list:public.members', row('public.members', '1', '2')],
  ],
  ['INSERT INTO users (id, name) VALUES ($1, $2)', [9, 'n'], [L, row(U, '9')]],
  ['INSERT INTO users (id, name) VALUES (1, $1), (2, $2)', ['a', 'b'], [L, row(U, '1'), row(U, '2')]],
  ['INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [9, 'n'], [L, row(U, '9')]],
  [
    'INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name',
    [9, 'n'],
    [L, row(U, '9')],
  ],
  // Fallbacks: the table tag.
  ['UPDATE users SET name = $1', ['a'], [T]],
  ['UPDATE users SET name = $1 WHERE name = $2', ['a', 'b'], [T]],
  ['UPDATE users SET name = $1 WHERE email = $2', ['a', 'b'], [T]], // a unique key, but not the primary
  ['UPDATE users SET name = $1 WHERE id = $2 OR id = $3', ['a', 1, 2], [T]],
  ['UPDATE users SET id = $1 WHERE id = $2', [5, 1], [T]], // the key changes
  ['UPDATE users SET name = l.name FROM logs l WHERE users.id = $1', [1], [T]],
  ['UPDATE users SET name = $1 WHERE CURRENT OF c', ['a'], [T]],
  ['UPDATE users SET name = $1 WHERE id = (SELECT max(id) FROM users)', ['a'], [T]],
  ['WITH x AS (SELECT 1) UPDATE users SET name = $1 WHERE id = $2', ['a', 1], [T]],
  ['WITH gone AS (DELETE FROM users WHERE id = $1 RETURNING id) SELECT * FROM gone', [1], [T]],
  ['DELETE FROM users USING logs WHERE users.id = $1', [1], [T]],
  ['DELETE FROM users WHERE id = $1', [null], [T]],
  ['INSERT INTO users (name) VALUES ($1)', ['a'], [T]], // the key comes from a default
  ['INSERT INTO users (id, name) VALUES (DEFAULT, $1)', ['a'], [T]],
  ['INSERT INTO users (id, name) SELECT id, name FROM logs', [], [T]],
  [
    'INSERT INTO users (id, email) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE SET name = excluded.name',
    [1, 'a@x'],
    [T],
  ],
  [
    'INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT ON CONSTRAINT users_pkey DO UPDATE SET name = $2',
    [1, 'a'],
    [T],
  ],
  ['INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET id = excluded.id + 1', [1, 'a'], [T]],
  ['UPDATE audited SET name = $1 WHERE id = $2', ['a', 1], ['table:public.audited']], // triggers or rules
  ['UPDATE logs SET name = $1 WHERE id = $2', ['a', 1], ['table:public.logs']], // no primary key
  ['MERGE INTO users u USING logs l ON u.id = l.id WHEN MATCHED THEN UPDATE SET name = l.name', [], [T]],
  ['TRUNCATE users', [], [T]],
  ['UPDATE users SET name = next_name() WHERE id = $1', [1], [T]], // a function may write anything
  ['UPDATE users SET name = upper($2) WHERE id = $1', [1, 'a'], [L, row(U, '1')]],
  ['UPDATE users SET name = $1 WHERE id = $2; UPDATE users SET name = $1 WHERE id = $3', ['a', 1, 2], [T]],
];

describe('row-level analysis', () => {
  it.each(READS)('%s %j is tagged as expected', (sql, params, tags) => {
    expect(selectTags(sql, params)).toEqual(tags);
  });

  it.each(WRITES)('%s %j purges as expected', (sql, params, tags) => {
    expect(purgeTags(sql, params)).toEqual([...tags].sort());
  });

  it('covers at least 40 statements, every fallback among them', () => {
    expect(READS.length + WRITES.length).toBeGreaterThanOrEqual(40);
  });

  it('keeps model rules on a row-level write: related tables and extra tags still go', () => {
    const tags = invalidation(catalog, (t) => t);
    tags.onTableChange(U, { tags: ['authentication'], related: ['public.members'] });
    expect(tags.purgeTags(analyze('UPDATE users SET name = $1 WHERE id = $2'), ['a', 1]).sort()).toEqual(
      ['authentication', L, row(U, '1'), 'table:public.members'].sort(),
    );
  });

  it('names the rows of a unique lookup by the primary keys in its result, the list tag when empty', () => {
    const found = invalidation(catalog, (t) => t).selectTags(analyze('SELECT * FROM users WHERE email = $1'), ['a']);
    if (!('lookup' in found)) throw new Error('expected a lookup');
    expect(found.lookup.resultTags([{ id: 4, email: 'a' }])).toEqual([row(U, '4')]);
    expect(found.lookup.resultTags([])).toEqual([L]);
    expect(found.lookup.resultTags([{ email: 'a' }])).toEqual([L]);
  });

  it('treats a statement that may change the schema as such, and SET as not', () => {
    const tags = invalidation(catalog, (t) => t);
    expect(tags.changesSchema(analyzeSql('ALTER TABLE users ADD COLUMN x int'))).toBe(true);
    expect(tags.changesSchema(analyzeSql('CREATE TRIGGER t AFTER UPDATE ON users EXECUTE FUNCTION f()'))).toBe(true);
    expect(tags.changesSchema(analyzeSql('SET search_path = app'))).toBe(false);
    expect(tags.changesSchema(analyzeSql('UPDATE users SET name = 1'))).toBe(false);
    expect(tags.changesSchema(undefined)).toBe(true);
  });
});

describe('canonical key values', () => {
  it.each([
    ['integer', 1, '1'],
    ['integer', '01', '1'],
    ['integer', ' +42 ', '42'],
    ['integer', 9007199254740993n, '9007199254740993'],
    ['integer', '9007199254740993', '9007199254740993'],
    ['integer', 1.5, undefined],
    ['integer', '1e3', undefined],
    ['integer', true, undefined],
    ['integer', null, undefined],
    ['text', 'Ab ', 'Ab '],
    ['text', 12, '12'],
    ['uuid', '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11'],
    ['uuid', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc999c0b4ef8bb6d6bb9bd380a11'],
    ['uuid', 'not-a-uuid', undefined],
  ] as const)('%s %s → %s', (type, value, expected) => {
    expect(canonicalKey(type, value)).toBe(expected);
  });

  it('gives two values two tags even when they hold the separator, and keeps tags valid when long', () => {
    expect(rowTag('public.t', ['a:b'])).not.toBe(rowTag('public.t', ['a', 'b']));
    expect(rowTag('public.t', ['a b,c'])).toMatch(/^[\x21-\x2b\x2d-\x7e]+$/);
    const long = rowTag('public.t', ['x'.repeat(2_000)]);
    expect(long.length).toBeLessThanOrEqual(1024);
    expect(long).not.toBe(rowTag('public.t', ['y'.repeat(2_000)]));
  });
});

describe('declared keys', () => {
  // Checked before anything is read: this connection is never asked.
  const unused = {
    query: () => Promise.reject(new Error('not reached')),
  };
  it.each([
    [{ keys: { users: { primary: {} } } }, "keys['users'].primary must name at least one column"],
    [{ keys: { users: { primary: { id: 'float' } } } }, "keys['users'].primary.id must be one of integer, text, uuid"],
    [
      { keys: { users: { primary: { id: 'integer' }, unique: [{}] } } },
      "keys['users'].unique[0] must name at least one column",
    ],
    [{ keys: { users: { primary: { id: 'integer' }, unique: {} } } }, "keys['users'].unique must be a list"],
    [{ refreshMs: 0 }, 'keysRefreshMs must be a positive number of milliseconds'],
    [{ refreshMs: Number.NaN }, 'keysRefreshMs must be a positive number of milliseconds'],
  ])('%j is refused with E_CONFIG_INVALID', (options, message) => {
    expect(() => keyCatalog(unused, options as never)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG_INVALID', message }),
    );
  });
});
