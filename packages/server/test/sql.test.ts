import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeSql, loadSqlParser, queryKey, type SqlKind, tablesFromSql } from '../src/query/sql.js';
import { keyOf } from '../src/query/sql-params.js';

beforeAll(async () => {
  await loadSqlParser();
});

interface Case {
  sql: string;
  kind: SqlKind;
  read?: string[];
  written?: string[];
}

// Real-world statements, each with the tables PostgreSQL itself would touch.
const CASES: Case[] = [
  // Plain selects and joins
  { sql: 'SELECT * FROM users', kind: 'select', read: ['public.users'] },
  { sql: 'select id, name from users where id = $1', kind: 'select', read: ['public.users'] },
  {
    sql: 'SELECT u.name, o.total FROM users u INNER JOIN orders o ON o.user_id = u.id',
    kind: 'select',
    read: ['public.orders', 'public.users'],
  },
  {
    sql: 'SELECT * FROM users u LEFT JOIN profiles p USING (user_id) LEFT OUTER JOIN avatars a ON a.id = p.avatar_id',
    kind: 'select',
    read: ['public.avatars', 'public.profiles', 'public.users'],
  },
  { sql: 'SELECT * FROM colors CROSS JOIN sizes', kind: 'select', read: ['public.colors', 'public.sizes'] },
  { sql: 'SELECT * FROM a, b, c WHERE a.id = b.a_id', kind: 'select', read: ['public.a', 'public.b', 'public.c'] },
  {
    sql: `SELECT u.id, last.* FROM users u
          CROSS JOIN LATERAL (SELECT * FROM orders o WHERE o.user_id = u.id ORDER BY created_at DESC LIMIT 3) last`,
    kind: 'select',
    read: ['public.orders', 'public.users'],
  },
  {
    sql: 'SELECT * FROM users u LEFT JOIN LATERAL jsonb_array_elements(u.tags) t ON true',
    kind: 'select',
    read: ['public.users'],
  },
  { sql: 'SELECT * FROM users FOR UPDATE SKIP LOCKED', kind: 'select', read: ['public.users'] },
  {
    sql: 'SELECT * FROM jobs j JOIN queues q ON q.id = j.queue_id FOR UPDATE OF j',
    kind: 'select',
    read: ['public.jobs', 'public.queues'],
  },
  { sql: 'TABLE users', kind: 'select', read: ['public.users'] },
  {
    sql: 'SELECT DISTINCT ON (user_id) * FROM sessions ORDER BY user_id, created_at DESC',
    kind: 'select',
    read: ['public.sessions'],
  },
  // Schema-qualified and quoted identifiers
  { sql: 'SELECT * FROM billing.invoices', kind: 'select', read: ['billing.invoices'] },
  { sql: 'SELECT * FROM "Users"', kind: 'select', read: ['public.Users'] },
  { sql: 'SELECT * FROM USERS', kind: 'select', read: ['public.users'] },
  {
    sql: 'SELECT * FROM "My Schema"."T" JOIN Public."Mixed" m ON true',
    kind: 'select',
    read: ['My Schema.T', 'public.Mixed'],
  },
  { sql: 'SELECT * FROM mydb.billing.invoices', kind: 'select', read: ['billing.invoices'] },
  // Functions and VALUES: no table
  { sql: 'SELECT now(), version()', kind: 'select' },
  { sql: 'SELECT * FROM generate_series(1, 10) AS g(n)', kind: 'select' },
  { sql: 'SELECT * FROM unnest($1::int[]) AS ids(id)', kind: 'select' },
  { sql: 'VALUES (1, $$one$$), (2, $$two$$)', kind: 'select' },
  {
    sql: 'SELECT * FROM (VALUES (1), (2)) AS v(id) JOIN users u ON u.id = v.id',
    kind: 'select',
    read: ['public.users'],
  },
  // Subqueries
  {
    sql: 'SELECT * FROM users WHERE id IN (SELECT user_id FROM orders WHERE total > 100)',
    kind: 'select',
    read: ['public.orders', 'public.users'],
  },
  {
    sql: 'SELECT * FROM users u WHERE EXISTS (SELECT 1 FROM bans b WHERE b.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM admins)',
    kind: 'select',
    read: ['public.admins', 'public.bans', 'public.users'],
  },
  {
    sql: 'SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) AS n FROM users u',
    kind: 'select',
    read: ['public.orders', 'public.users'],
  },
  {
    sql: 'SELECT t.n FROM (SELECT count(*) AS n FROM (SELECT * FROM audit.events) e) t',
    kind: 'select',
    read: ['audit.events'],
  },
  {
    sql: 'SELECT * FROM products WHERE price > ANY (SELECT price FROM competitor_prices) ORDER BY (SELECT max(x) FROM weights)',
    kind: 'select',
    read: ['public.competitor_prices', 'public.products', 'public.weights'],
  },
  // Set operations
  {
    sql: 'SELECT id FROM customers UNION SELECT id FROM suppliers',
    kind: 'select',
    read: ['public.customers', 'public.suppliers'],
  },
  {
    sql: 'SELECT id FROM a UNION ALL SELECT id FROM b INTERSECT SELECT id FROM c',
    kind: 'select',
    read: ['public.a', 'public.b', 'public.c'],
  },
  {
    sql: '(SELECT email FROM users) EXCEPT (SELECT email FROM unsubscribed)',
    kind: 'select',
    read: ['public.unsubscribed', 'public.users'],
  },
  // CTEs
  {
    sql: 'WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval $$1 day$$) SELECT * FROM recent JOIN users ON users.id = recent.user_id',
    kind: 'select',
    read: ['public.orders', 'public.users'],
  },
  {
    sql: 'WITH a AS (SELECT * FROM t1), b AS (SELECT * FROM a JOIN t2 USING (id)) SELECT * FROM b',
    kind: 'select',
    read: ['public.t1', 'public.t2'],
  },
  {
    sql: `WITH RECURSIVE tree AS (
            SELECT id, parent_id FROM categories WHERE parent_id IS NULL
            UNION ALL
            SELECT c.id, c.parent_id FROM categories c JOIN tree ON c.parent_id = tree.id
          ) SELECT * FROM tree`,
    kind: 'select',
    read: ['public.categories'],
  },
  // A CTE shadows a table of the same name, but only where it is in scope.
  {
    sql: 'WITH users AS (SELECT * FROM users WHERE active) SELECT * FROM users',
    kind: 'select',
    read: ['public.users'],
  },
  { sql: 'WITH orders AS (SELECT 1 AS id) SELECT * FROM orders', kind: 'select' },
  { sql: 'WITH orders AS (SELECT 1 AS id) SELECT * FROM public.orders', kind: 'select', read: ['public.orders'] },
  {
    sql: 'SELECT * FROM (WITH orders AS (SELECT 1 AS id) SELECT * FROM orders) x JOIN orders o ON true',
    kind: 'select',
    read: ['public.orders'],
  },
  {
    sql: 'WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a',
    kind: 'select',
    read: ['public.b'], // without RECURSIVE, a CTE cannot see a later one: `b` in `a` is the table
  },
  // INSERT
  { sql: 'INSERT INTO users (email) VALUES ($1) RETURNING id', kind: 'insert', written: ['public.users'] },
  {
    sql: 'INSERT INTO archive.orders SELECT * FROM orders WHERE created_at < $1',
    kind: 'insert',
    read: ['public.orders'],
    written: ['archive.orders'],
  },
  {
    sql: 'INSERT INTO counters (key, n) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = counters.n + excluded.n',
    kind: 'insert',
    written: ['public.counters'],
  },
  {
    sql: 'INSERT INTO tags (name) SELECT name FROM staging_tags ON CONFLICT DO NOTHING',
    kind: 'insert',
    read: ['public.staging_tags'],
    written: ['public.tags'],
  },
  {
    sql: 'INSERT INTO events SELECT * FROM events WHERE id = 1',
    kind: 'insert',
    read: ['public.events'],
    written: ['public.events'],
  },
  {
    sql: 'WITH moved AS (DELETE FROM queue WHERE done RETURNING *) INSERT INTO queue_done SELECT * FROM moved',
    kind: 'insert',
    written: ['public.queue', 'public.queue_done'],
  },
  {
    sql: 'WITH src AS (SELECT * FROM imports) INSERT INTO "Items" SELECT * FROM src',
    kind: 'insert',
    read: ['public.imports'],
    written: ['public.Items'],
  },
  // UPDATE
  { sql: 'UPDATE users SET name = $1 WHERE id = $2', kind: 'update', written: ['public.users'] },
  {
    sql: 'UPDATE orders o SET status = s.status FROM shipments s WHERE s.order_id = o.id',
    kind: 'update',
    read: ['public.shipments'],
    written: ['public.orders'],
  },
  {
    sql: 'UPDATE accounts SET balance = balance - 1 WHERE id IN (SELECT account_id FROM holds) RETURNING (SELECT now())',
    kind: 'update',
    read: ['public.holds'],
    written: ['public.accounts'],
  },
  // DELETE
  { sql: 'DELETE FROM sessions WHERE expires_at < now()', kind: 'delete', written: ['public.sessions'] },
  {
    sql: 'DELETE FROM order_items oi USING orders o WHERE oi.order_id = o.id AND o.cancelled',
    kind: 'delete',
    read: ['public.orders'],
    written: ['public.order_items'],
  },
  // A CTE named like the target does not redirect the write: the target is always a table.
  {
    sql: 'WITH users AS (SELECT 1 AS id) DELETE FROM users WHERE id IN (SELECT id FROM users)',
    kind: 'delete',
    written: ['public.users'],
  },
  // A SELECT with a data-modifying CTE is a write.
  {
    sql: 'WITH d AS (DELETE FROM carts WHERE stale RETURNING id) SELECT count(*) FROM d',
    kind: 'delete',
    written: ['public.carts'],
  },
  // MERGE
  {
    sql: `MERGE INTO inventory i USING deliveries d ON i.sku = d.sku
          WHEN MATCHED THEN UPDATE SET qty = i.qty + d.qty
          WHEN NOT MATCHED THEN INSERT (sku, qty) VALUES (d.sku, d.qty)`,
    kind: 'merge',
    read: ['public.deliveries'],
    written: ['public.inventory'],
  },
  {
    sql: 'MERGE INTO sales.totals t USING (SELECT * FROM sales.orders) o ON t.id = o.id WHEN MATCHED THEN DELETE',
    kind: 'merge',
    read: ['sales.orders'],
    written: ['sales.totals'],
  },
  // TRUNCATE and COPY
  {
    sql: 'TRUNCATE logs, audit.events, "Cache" RESTART IDENTITY CASCADE',
    kind: 'truncate',
    written: ['audit.events', 'public.Cache', 'public.logs'],
  },
  { sql: 'COPY users (id, email) FROM STDIN WITH (FORMAT csv)', kind: 'copy-from', written: ['public.users'] },
  { sql: 'COPY users TO STDOUT', kind: 'copy-to', read: ['public.users'] },
  {
    sql: 'COPY (SELECT * FROM orders JOIN users ON true) TO STDOUT',
    kind: 'copy-to',
    read: ['public.orders', 'public.users'],
  },
  // DDL and utility statements: 'other'; relations they change count as written.
  {
    sql: 'SELECT * INTO backup_users FROM users',
    kind: 'other',
    read: ['public.users'],
    written: ['public.backup_users'],
  },
  { sql: 'CREATE TABLE t2 AS SELECT * FROM t1', kind: 'other', read: ['public.t1'], written: ['public.t2'] },
  { sql: 'ALTER TABLE users ADD COLUMN age int', kind: 'other', written: ['public.users'] },
  { sql: 'DROP TABLE IF EXISTS old_users, billing.old', kind: 'other', written: ['billing.old', 'public.old_users'] },
  { sql: 'REFRESH MATERIALIZED VIEW CONCURRENTLY stats', kind: 'other', written: ['public.stats'] },
  { sql: 'EXPLAIN SELECT * FROM users', kind: 'other', read: ['public.users'] },
  { sql: 'SET search_path TO app', kind: 'other' },
  // Several statements in one string
  { sql: 'SELECT * FROM a; SELECT * FROM b;', kind: 'select', read: ['public.a', 'public.b'] },
  { sql: 'SELECT * FROM a; DELETE FROM b', kind: 'other', read: ['public.a'], written: ['public.b'] },
];

describe('tablesFromSql / analyzeSql', () => {
  it('has a real-world table of at least 40 statements', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('$sql', ({ sql, kind, read = [], written = [] }) => {
    const analysis = analyzeSql(sql);
    expect(analysis).toBeDefined();
    expect({ kind: analysis?.kind, read: analysis?.read, written: analysis?.written }).toEqual({ kind, read, written });
    expect(tablesFromSql(sql)).toEqual({ read, written });
  });

  it.each([
    ['BEGIN', 'begin'],
    ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'begin'],
    ['COMMIT', 'commit'],
    ['END', 'commit'],
    ['ROLLBACK', 'rollback'],
    ['abort', 'rollback'],
    ['SAVEPOINT before_import', 'savepoint'],
    ['RELEASE SAVEPOINT before_import', 'release'],
    ['ROLLBACK TO SAVEPOINT before_import', 'rollback-to'],
  ] as const)('%s is a transaction statement: %s', (sql, transaction) => {
    expect(analyzeSql(sql)).toMatchObject({ kind: 'transaction', transaction, read: [], written: [] });
  });

  it('leaves the transaction field out for other kinds and for several statements', () => {
    expect(analyzeSql('SELECT 1')).not.toHaveProperty('transaction');
    expect(analyzeSql('BEGIN; COMMIT')).not.toHaveProperty('transaction');
    expect(analyzeSql('PREPARE TRANSACTION $$t1$$')?.kind).toBe('other');
  });

  it('maps declared views to their base tables, recursively, in reads and writes', () => {
    const views = {
      active_users: ['users'],
      'reporting.user_orders': ['public.active_users', 'orders'],
      loop_a: ['loop_b'],
      loop_b: ['loop_a', 'real'],
    };
    expect(tablesFromSql('SELECT * FROM reporting.user_orders', { views })).toEqual({
      read: ['public.orders', 'public.users'],
      written: [],
    });
    expect(tablesFromSql('SELECT * FROM active_users JOIN public.Active_Users ON true', { views })?.read).toEqual([
      'public.users',
    ]);
    // `user_orders` unqualified is public.user_orders, not the declared reporting view.
    expect(tablesFromSql('SELECT * FROM user_orders', { views })?.read).toEqual(['public.user_orders']);
    expect(tablesFromSql('UPDATE active_users SET name = $1', { views })?.written).toEqual(['public.users']);
    // A CTE named like a view is still the CTE.
    expect(tablesFromSql('WITH active_users AS (SELECT 1) SELECT * FROM active_users', { views })?.read).toEqual([]);
    // A cycle stops at the repeated view instead of looping.
    expect(tablesFromSql('SELECT * FROM loop_a', { views })?.read).toEqual(['public.loop_a', 'public.real']);
  });

  it.each([
    'SELEC * FROM users',
    'SELECT * FROM',
    'SELECT * FROM users WHERE',
    "SELECT 'unterminated",
    'INSERT INTO users VALUES (',
    'UPDATE SET x = 1',
    'this is not sql',
    '',
    '   -- only a comment',
    'SELECT * FROM users; SELEC 1',
  ])('is undefined for what the parser cannot understand: %j', (sql) => {
    expect(analyzeSql(sql)).toBeUndefined();
    expect(tablesFromSql(sql)).toBeUndefined();
    expect(queryKey(sql)).toBeUndefined();
  });
});

describe('canonical form and queryKey', () => {
  const canonical = (sql: string) => analyzeSql(sql)?.canonical;

  it('is equal for spellings that differ in whitespace, comments, keyword case and a final semicolon', () => {
    const spellings = [
      'SELECT id, name FROM users WHERE id = 1 AND active',
      'select id,name from users where id=1 and active',
      '  SELECT\n\tid ,\n  name\nFROM   USERS -- who\nWHERE id = 1 /* the one */ AND active ;',
      'SELECT "id", name FROM Users WHERE id = 1 AND active',
    ];
    expect(canonical(spellings[1] as string)).toBe(canonical(spellings[0] as string));
    expect(canonical(spellings[2] as string)).toBe(canonical(spellings[0] as string));
    // "id" quoted equals id, but Users unquoted folds to users: the same query.
    expect(canonical(spellings[3] as string)).toBe(canonical(spellings[0] as string));
    expect(queryKey(spellings[2] as string, [1])).toBe(queryKey(spellings[0] as string, [1]));
  });

  it('differs for different literals, identifiers and placeholders', () => {
    const base = canonical('SELECT * FROM users WHERE id = 1');
    expect(canonical('SELECT * FROM users WHERE id = 2')).not.toBe(base);
    expect(canonical("SELECT * FROM users WHERE id = '1'")).not.toBe(base);
    expect(canonical('SELECT * FROM "Users" WHERE id = 1')).not.toBe(base);
    expect(canonical('SELECT * FROM users WHERE id = $1')).not.toBe(canonical('SELECT * FROM users WHERE id = $2'));
    expect(canonical("SELECT 'a  b'")).not.toBe(canonical("SELECT 'a b'"));
  });

  it('is position-free JSON', () => {
    const json = canonical('SELECT a FROM t WHERE b = $1') ?? '';
    expect(() => JSON.parse(json)).not.toThrow();
    expect(json).not.toMatch(/location|stmt_len/);
  });

  it('queryKey is a base64url sha256 that differs by parameters and never holds them', () => {
    const sql = 'SELECT * FROM users WHERE id = $1';
    const key = queryKey(sql, [1]);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(queryKey('SELECT * FROM sessions WHERE token = $1', ['secret-token'])).not.toContain('secret');
    expect(queryKey(sql, [1])).toBe(key);
    expect(queryKey(sql, [2])).not.toBe(key);
    expect(queryKey(sql, ['1'])).not.toBe(key);
    expect(queryKey(sql)).toBe(queryKey(sql, []));
    expect(queryKey(sql, [null])).toBe(queryKey(sql, [undefined]));
    expect(queryKey(sql, [Number.NaN])).not.toBe(queryKey(sql, [null]));
    expect(keyOf(analyzeSql(sql)?.canonical ?? '', [1])).toBe(key);
  });

  it('queryKey encodes Date, bigint and bytes stably and apart from look-alike strings and objects', () => {
    const sql = 'SELECT $1';
    const when = '2026-01-02T03:04:05.000Z';
    expect(queryKey(sql, [new Date(when)])).toBe(queryKey(sql, [new Date(Date.parse(when))]));
    expect(queryKey(sql, [new Date(when)])).not.toBe(queryKey(sql, [when]));
    expect(queryKey(sql, [new Date(when)])).not.toBe(queryKey(sql, [{ $date: when }]));
    expect(queryKey(sql, [10n])).toBe(queryKey(sql, [BigInt(10)]));
    expect(queryKey(sql, [10n])).not.toBe(queryKey(sql, [10]));
    expect(queryKey(sql, [10n])).not.toBe(queryKey(sql, ['10']));
    expect(queryKey(sql, [Buffer.from('hi')])).toBe(queryKey(sql, [new Uint8Array([104, 105])]));
    expect(queryKey(sql, [Buffer.from('hi')])).not.toBe(queryKey(sql, [Buffer.from('ho')]));
    expect(queryKey(sql, [Buffer.from('hi')])).not.toBe(queryKey(sql, ['hi']));
    expect(queryKey(sql, [{ at: new Date(when), n: 1n }])).toBe(queryKey(sql, [{ at: new Date(when), n: 1n }]));
    expect(queryKey(sql, [[1, 2]])).not.toBe(queryKey(sql, [[2, 1]]));
  });

  it('loads idempotently, and throws a coded error when used before loading', async () => {
    await Promise.all([loadSqlParser(), loadSqlParser()]);
    vi.resetModules();
    const fresh = await import('../src/query/sql.js');
    expect(() => fresh.analyzeSql('SELECT 1')).toThrow(/loadSqlParser/);
    expect(() => fresh.queryKey('SELECT 1')).toThrow(expect.objectContaining({ code: 'E_CONFIG_INVALID' }));
    await fresh.loadSqlParser();
    expect(fresh.analyzeSql('SELECT 1')?.kind).toBe('select');
  });
});

describe('canonical form under random whitespace and comments (property)', () => {
  // Queries as token lists; any run of whitespace and comments may separate two tokens.
  const QUERIES: string[][] = [
    ['SELECT', 'u.id', ',', 'u.name', 'FROM', 'users', 'u', 'WHERE', 'u.id', '=', '$1'],
    ['SELECT', '*', 'FROM', 'orders', 'o', 'JOIN', 'users', 'u', 'ON', 'u.id', '=', 'o.user_id', 'LIMIT', '10'],
    ['WITH', 'r', 'AS', '(', 'SELECT', '*', 'FROM', 'orders', ')', 'SELECT', 'count', '(', '*', ')', 'FROM', 'r'],
    ['INSERT', 'INTO', 'logs', '(', 'msg', ')', 'VALUES', '(', "'a b'", ')'],
    [
      'UPDATE',
      'items',
      'SET',
      'qty',
      '=',
      'qty',
      '-',
      '1',
      'WHERE',
      'id',
      'IN',
      '(',
      'SELECT',
      'id',
      'FROM',
      'holds',
      ')',
    ],
    ['SELECT', 'id', 'FROM', 'a', 'UNION', 'SELECT', 'id', 'FROM', '"B"'],
  ];
  const separator = fc
    .array(
      fc.oneof(
        fc.constantFrom(' ', '\n', '\t', '\r\n', '   '),
        fc
          .string({ unit: fc.constantFrom('a', 'Z', ' ', '*', '-', "'", '"', ';') })
          .map((text) => `/* ${text.replaceAll('*/', '')} */`),
        fc.string({ unit: fc.constantFrom('a', ' ', '*', '/', "'") }).map((text) => ` -- ${text}\n`),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((parts) => parts.join(''));

  it('keeps the canonical form of every query', () => {
    const expected = QUERIES.map((tokens) => analyzeSql(tokens.join(' '))?.canonical);
    for (const value of expected) expect(value).toBeDefined();
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: QUERIES.length - 1 })
          .chain((index) =>
            fc.tuple(
              fc.constant(index),
              fc.array(separator, { minLength: QUERIES[index]?.length ?? 0, maxLength: QUERIES[index]?.length ?? 0 }),
              fc.boolean(),
            ),
          ),
        ([index, separators, lower]) => {
          const tokens = QUERIES[index] ?? [];
          // Keywords and unquoted names are case-insensitive; literals and quoted names are not.
          const cased = tokens.map((token) => (lower && !/['"]/.test(token) ? token.toLowerCase() : token));
          const sql = cased.map((token, i) => `${separators[i] ?? ' '}${token}`).join('');
          expect(analyzeSql(sql)?.canonical).toBe(expected[index]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
