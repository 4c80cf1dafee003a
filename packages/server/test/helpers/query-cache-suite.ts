import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type QueryCache, queryCache } from '../../src/query/query-cache.js';
import type { SqlDriver } from '../../src/query/types.js';
import { watchTables } from '../../src/query/watch.js';
import { memoryStore } from '../../src/store/memory.js';
import { createStrata, type Strata } from '../../src/strata.js';
import { manifest } from '../origin.js';

/** A database the suite runs against: the driver under test plus a way around it. */
export interface QueryCacheTarget {
  driver: SqlDriver;
  /** A schema of the suite's own, created by `connect`; the suite makes its tables there. */
  schema: string;
  /** Runs statements (simple protocol) on another connection, or straight on the database, bypassing the cache. */
  external(sql: string): Promise<void>;
  /** Kills the listener's connection on the server; absent where there is none to kill (PGlite). */
  killListener?: () => Promise<void>;
  /** Drops the schema and closes everything. */
  close(): Promise<void>;
}

/** Counts statements that reach the database through the driver's `query`. */
function counting(driver: SqlDriver): SqlDriver & { count: number } {
  const wrapper = {
    count: 0,
    query: ((sql, params) => {
      wrapper.count++;
      return driver.query(sql, params);
    }) as SqlDriver['query'],
    transaction: driver.transaction.bind(driver),
    listen: driver.listen.bind(driver),
    close: async () => {},
  };
  return wrapper;
}

const waitFor = (check: () => Promise<void> | void) => vi.waitFor(check, { timeout: 5_000, interval: 10 });

/** The same contract for every driver (one contract suite per seam: docs/architecture.md#packages). */
export function queryCacheSuite(name: string, connect: () => Promise<QueryCacheTarget>): void {
  describe(name, () => {
    let target: QueryCacheTarget;
    let s: string;
    const open: Array<{ close(): Promise<void> }> = [];

    beforeAll(async () => {
      target = await connect();
      s = target.schema;
      for (const table of ['users', 'posts', 'user_roles', 'sessions', 'audit']) {
        await target.driver.query(`CREATE TABLE ${s}.${table} (id int PRIMARY KEY, name text NOT NULL)`);
        await target.driver.query(`INSERT INTO ${s}.${table} VALUES (1, 'one'), (2, 'two')`);
      }
    });
    afterAll(async () => {
      for (const item of open.splice(0)) await item.close();
      await target?.close();
    });

    async function setup(options: Parameters<typeof queryCache>[2] = {}) {
      const strata: Strata = createStrata({ manifest });
      const db = counting(target.driver);
      const qc: QueryCache = await queryCache(strata, db, {
        tables: { [`${s}.users`]: { ttl: 60 }, [`${s}.posts`]: { ttl: 60 }, [`${s}.user_roles`]: { ttl: 60 } },
        ...options,
      });
      open.push(strata);
      db.count = 0; // queryCache() read the catalog's keys: not a query of the test's
      const purges = async () => (await strata.stats()).purges;
      return { strata, db, qc, purges };
    }

    it('caches a SELECT on opted-in tables: the second call never reaches the database', async () => {
      const { db, qc } = await setup();
      const first = await qc.query(`SELECT id, name FROM ${s}.users WHERE id = $1`, [1]);
      const second = await qc.query(`SELECT id, name FROM ${s}.users WHERE id = $1`, [1]);
      expect(second.rows).toEqual([{ id: 1, name: 'one' }]);
      expect(second).toEqual(first);
      expect(db.count).toBe(1);
      const stats = qc.stats();
      expect(stats).toMatchObject({ cached: 1, hits: 1, misses: 1, averageHits: 1, refused: 0 });
      expect(stats.top[0]?.sql).toContain('users');
      expect(stats.timeSavedMs).toBeGreaterThan(0);
    });

    it('shares one entry between two spellings of a query, not between different parameters', async () => {
      const { db, qc } = await setup();
      await qc.query(`SELECT id, name FROM ${s}.users WHERE id = $1`, [1]);
      await qc.query(`select id,name\n  from ${s}.users -- by id\n  where id=$1`, [1]);
      expect(db.count).toBe(1);
      const other = await qc.query(`SELECT id, name FROM ${s}.users WHERE id = $1`, [2]);
      expect(other.rows).toEqual([{ id: 2, name: 'two' }]);
      expect(db.count).toBe(2);
    });

    it('passes through SELECTs on tables without a policy, unless the call opts in', async () => {
      const { db, qc } = await setup();
      const join = `SELECT u.name FROM ${s}.users u JOIN ${s}.audit a ON a.id = u.id ORDER BY 1`;
      await qc.query(join);
      await qc.query(join);
      expect(db.count).toBe(2);
      await qc.query(join, [], { cache: true, ttl: 30 });
      await qc.query(join, [], { cache: true, ttl: 30 });
      expect(db.count).toBe(3);
      await qc.query(`SELECT name FROM ${s}.users`, [], { cache: false });
      expect(db.count).toBe(4);
    });

    it('purges the written table after a write through the wrapper succeeds, not after one that fails', async () => {
      const { db, qc, purges } = await setup();
      const list = `SELECT id FROM ${s}.posts ORDER BY id`;
      expect((await qc.query(list)).rows).toHaveLength(2);
      const before = await purges();
      await expect(qc.query(`INSERT INTO ${s}.posts VALUES (1, 'duplicate')`)).rejects.toThrow();
      expect(await purges()).toBe(before);
      await qc.query(list);
      expect(db.count).toBe(2); // the select, the failed insert; the second select was a hit
      await qc.query(`INSERT INTO ${s}.posts VALUES (10, 'ten')`);
      expect(await purges()).toBe(before + 1);
      expect((await qc.query(list)).rows).toHaveLength(3);
      expect(db.count).toBe(4);
      await qc.query(`DELETE FROM ${s}.posts WHERE id = 10`);
    });

    it('purges only the row a write by key names, and the lists: other rows stay cached', async () => {
      const { db, qc } = await setup();
      const byId = `SELECT id, name FROM ${s}.users WHERE id = $1`;
      const list = `SELECT id, name FROM ${s}.users ORDER BY id`;
      await qc.query(byId, [1]);
      await qc.query(byId, [2]);
      await qc.query(list);
      expect(db.count).toBe(3);
      await qc.query(`UPDATE ${s}.users SET name = $1 WHERE id = $2`, ['uno', 1]);
      await qc.query(byId, [2]);
      expect(db.count).toBe(4); // row 2 is still a hit
      // '01' is row 1 on an integer key: the same row tag, purged.
      expect((await qc.query(`SELECT id, name FROM ${s}.users WHERE id = $1::int`, ['01'])).rows).toEqual([
        { id: 1, name: 'uno' },
      ]);
      expect((await qc.query(list)).rows).toContainEqual({ id: 1, name: 'uno' });
      expect(db.count).toBe(6);
      await qc.query(`UPDATE ${s}.users SET name = 'one' WHERE id = 1`);
      expect((await qc.query(byId, [1])).rows).toEqual([{ id: 1, name: 'one' }]);
    });

    it('purges the whole table on a write to a table with a trigger, created through the cache', async () => {
      const { db, qc } = await setup({ tables: 'all' });
      await qc.query(`CREATE TABLE ${s}.counters (id int PRIMARY KEY, n int NOT NULL)`);
      await qc.query(`INSERT INTO ${s}.counters VALUES (1, 0), (2, 0)`);
      const byId = `SELECT n FROM ${s}.counters WHERE id = $1`;
      expect((await qc.query(byId, [2])).rows).toEqual([{ n: 0 }]);
      await qc.query(`CREATE FUNCTION ${s}.bump_others() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE ${s}.counters SET n = n + 1 WHERE id <> NEW.id; RETURN NULL; END $$`);
      await qc.query(`CREATE TRIGGER bump AFTER UPDATE ON ${s}.counters FOR EACH ROW
        WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION ${s}.bump_others()`);
      // The DDL purged what the table's queries cached: cache row 2 again, and check it is a hit.
      await qc.query(byId, [2]);
      const cached = db.count;
      expect((await qc.query(byId, [2])).rows).toEqual([{ n: 0 }]);
      expect(db.count).toBe(cached);
      await qc.query(`UPDATE ${s}.counters SET n = 10 WHERE id = 1`);
      // The trigger changed row 2: a row-level purge of row 1 would have left it stale.
      expect((await qc.query(byId, [2])).rows).toEqual([{ n: 1 }]);
    });

    it('reads keys added through the cache: a table that gains a primary key gets row tags', async () => {
      const { db, qc } = await setup({ tables: 'all' });
      await qc.query(`CREATE TABLE ${s}.unkeyed (id int NOT NULL, name text)`);
      await qc.query(`INSERT INTO ${s}.unkeyed VALUES (1, 'a'), (2, 'b')`);
      await qc.query(`ALTER TABLE ${s}.unkeyed ADD PRIMARY KEY (id)`);
      const byId = `SELECT name FROM ${s}.unkeyed WHERE id = $1`;
      await qc.query(byId, [1]);
      await qc.query(byId, [2]);
      await qc.query(`UPDATE ${s}.unkeyed SET name = 'c' WHERE id = 1`);
      const before = db.count;
      expect((await qc.query(byId, [2])).rows).toEqual([{ name: 'b' }]);
      expect(db.count).toBe(before); // a hit
      expect((await qc.query(byId, [1])).rows).toEqual([{ name: 'c' }]);
    });

    it('uses declared keys for a table the catalog knows none of', async () => {
      await target.driver.query(`CREATE TABLE ${s}.declared (code text NOT NULL, name text)`);
      await target.driver.query(`INSERT INTO ${s}.declared VALUES ('a', 'one'), ('b', 'two')`);
      const { db, qc } = await setup({ tables: 'all', keys: { [`${s}.declared`]: { primary: { code: 'text' } } } });
      const byCode = `SELECT name FROM ${s}.declared WHERE code = $1`;
      await qc.query(byCode, ['a']);
      await qc.query(byCode, ['b']);
      await qc.query(`UPDATE ${s}.declared SET name = 'uno' WHERE code = 'a'`);
      const before = db.count;
      expect((await qc.query(byCode, ['b'])).rows).toEqual([{ name: 'two' }]);
      expect(db.count).toBe(before); // row b was not purged
      expect((await qc.query(byCode, ['a'])).rows).toEqual([{ name: 'uno' }]);
    });

    it('tags a unique-key lookup by the row it found: writes to other rows leave it cached', async () => {
      const { db, qc } = await setup({ tables: 'all' });
      await qc.query(`CREATE TABLE ${s}.accounts (id int PRIMARY KEY, email text UNIQUE NOT NULL, name text)`);
      await qc.query(`INSERT INTO ${s}.accounts VALUES (1, 'a@x', 'one'), (2, 'b@x', 'two')`);
      const byEmail = `SELECT id, email, name FROM ${s}.accounts WHERE email = $1`;
      await qc.query(byEmail, ['a@x']); // stored under the list tag
      await qc.query(byEmail, ['a@x']); // read under row 1's tag: loaded again, stored under it
      const before = db.count;
      await qc.query(byEmail, ['a@x']);
      expect(db.count).toBe(before);
      await qc.query(`UPDATE ${s}.accounts SET name = 'deux' WHERE id = 2`);
      await qc.query(byEmail, ['a@x']);
      expect(db.count).toBe(before + 1); // only the write
      // The email moves to row 2: row 1's write purges the entry, and nothing stale is served.
      await qc.query(`UPDATE ${s}.accounts SET email = 'c@x' WHERE id = 1`);
      await qc.query(`UPDATE ${s}.accounts SET email = 'a@x' WHERE id = 2`);
      expect((await qc.query(byEmail, ['a@x'])).rows).toEqual([{ id: 2, email: 'a@x', name: 'deux' }]);
      await qc.query(`UPDATE ${s}.accounts SET name = 'two' WHERE id = 2`);
      expect((await qc.query(byEmail, ['a@x'])).rows).toEqual([{ id: 2, email: 'a@x', name: 'two' }]);
      expect((await qc.query(byEmail, ['z@x'])).rows).toEqual([]);
      await qc.query(`INSERT INTO ${s}.accounts VALUES (3, 'z@x', 'three')`);
      expect((await qc.query(byEmail, ['z@x'])).rows).toEqual([{ id: 3, email: 'z@x', name: 'three' }]);
    });

    it('never serves a lookup another instance stored under the rows it no longer found', async () => {
      // Two instances share one store: B still assumes the row A's load no longer found.
      const store = memoryStore();
      const [a, b] = [createStrata({ manifest, store }), createStrata({ manifest, store })];
      open.push(a, b);
      await target.driver.query(
        `CREATE TABLE ${s}.handles (id int PRIMARY KEY, handle text UNIQUE NOT NULL, name text)`,
      );
      await target.driver.query(`INSERT INTO ${s}.handles VALUES (1, 'h', 'one'), (2, 'i', 'two')`);
      const qa = await queryCache(a, target.driver, { tables: 'all' });
      const qb = await queryCache(b, target.driver, { tables: 'all' });
      const byHandle = `SELECT id, name FROM ${s}.handles WHERE handle = $1`;
      for (const qc of [qa, qb, qa, qb])
        expect((await qc.query(byHandle, ['h'])).rows).toEqual([{ id: 1, name: 'one' }]);
      await qa.query(`UPDATE ${s}.handles SET handle = 'x' WHERE id = 1`);
      await qa.query(`UPDATE ${s}.handles SET handle = 'h' WHERE id = 2`);
      // A loads row 2 under row 1's tag (what it assumed), then learns row 2.
      expect((await qa.query(byHandle, ['h'])).rows).toEqual([{ id: 2, name: 'two' }]);
      expect((await qb.query(byHandle, ['h'])).rows).toEqual([{ id: 2, name: 'two' }]);
      await qa.query(`UPDATE ${s}.handles SET name = 'deux' WHERE id = 2`);
      expect((await qb.query(byHandle, ['h'])).rows).toEqual([{ id: 2, name: 'deux' }]);
    });

    it('leaves the cache untouched when a transaction rolls back', async () => {
      const { db, qc, purges } = await setup();
      const list = `SELECT id FROM ${s}.users ORDER BY id`;
      await qc.query(list);
      const before = await purges();
      await expect(
        qc.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${s}.users VALUES (20, 'twenty')`);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await purges()).toBe(before);
      expect((await qc.query(list)).rows).toEqual([{ id: 1 }, { id: 2 }]);
      expect(db.count).toBe(1);
    });

    it('purges once at COMMIT for every table the transaction wrote', async () => {
      const { db, qc, purges } = await setup();
      const users = `SELECT count(*)::int AS n FROM ${s}.users`;
      const posts = `SELECT count(*)::int AS n FROM ${s}.posts`;
      await qc.query(users);
      await qc.query(posts);
      const before = await purges();
      await qc.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${s}.users VALUES (30, 'thirty')`);
        await tx.query(`INSERT INTO ${s}.posts VALUES (30, 'thirty')`);
        await tx.query(`UPDATE ${s}.users SET name = 'thirty!' WHERE id = 30`);
        // Nothing is purged before COMMIT: other readers still see the committed state.
        expect(await purges()).toBe(before);
      });
      expect(await purges()).toBe(before + 1);
      expect((await qc.query(users)).rows).toEqual([{ n: 3 }]);
      expect((await qc.query(posts)).rows).toEqual([{ n: 3 }]);
      expect(db.count).toBe(4);
      await qc.transaction(async (tx) => {
        await tx.query(`DELETE FROM ${s}.users WHERE id = 30`);
        await tx.query(`DELETE FROM ${s}.posts WHERE id = 30`);
      });
    });

    it('applies model rules: a write to users also purges related tables and extra tags', async () => {
      const { db, qc } = await setup({ rules: { [`${s}.users`]: { related: [`${s}.user_roles`] } } });
      qc.onTableChange(`${s}.users`, { tags: ['authentication'] });
      const roles = `SELECT id FROM ${s}.user_roles ORDER BY id`;
      const sessions = `SELECT id FROM ${s}.sessions ORDER BY id`;
      await qc.query(roles);
      await qc.query(sessions, [], { cache: true, ttl: 60, tags: ['authentication'] });
      await qc.query(roles);
      await qc.query(sessions, [], { cache: true, ttl: 60, tags: ['authentication'] });
      expect(db.count).toBe(2);
      await qc.query(`UPDATE ${s}.users SET name = 'one' WHERE id = 1`);
      await qc.query(roles);
      await qc.query(sessions, [], { cache: true, ttl: 60, tags: ['authentication'] });
      expect(db.count).toBe(5);
    });

    it('returns the same row types from a hit as from the database (Date, int8, bytea)', async () => {
      const { db, qc } = await setup();
      const sql = `SELECT timestamptz '2024-01-02T03:04:05Z' AS at, 9007199254740993::int8 AS big, '\\x0102'::bytea AS raw, name FROM ${s}.users WHERE id = 1`;
      const miss = await qc.query(sql);
      const hit = await qc.query(sql);
      expect(db.count).toBe(1);
      expect(hit.rows).toEqual(miss.rows);
      expect(hit.rows[0]?.at).toBeInstanceOf(Date);
    });

    it('refuses BEGIN/COMMIT through query(): a pool would run them on any connection', async () => {
      const { qc } = await setup();
      await expect(qc.query('BEGIN')).rejects.toMatchObject({ name: 'StrataError' });
    });

    it('does not purge when COMMIT finds the transaction aborted by a caught error', async () => {
      const { qc, purges } = await setup();
      const before = await purges();
      await expect(
        qc.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${s}.users VALUES (60, 'sixty')`);
          await tx.query(`INSERT INTO ${s}.users VALUES (1, 'duplicate')`).catch(() => {});
        }),
      ).rejects.toThrow();
      expect(await purges()).toBe(before);
      expect((await qc.query(`SELECT count(*)::int AS n FROM ${s}.users WHERE id = 60`)).rows).toEqual([{ n: 0 }]);
    });

    it('maps a declared view to its base tables: cached with their policy, purged by their writes', async () => {
      await target.driver.query(`CREATE OR REPLACE VIEW ${s}.named_users AS SELECT id, name FROM ${s}.users`);
      const { db, qc } = await setup({ views: { [`${s}.named_users`]: [`${s}.users`] } });
      const sql = `SELECT name FROM ${s}.named_users WHERE id = $1`;
      await qc.query(sql, [2]);
      await qc.query(sql, [2]);
      expect(db.count).toBe(1);
      await qc.query(`UPDATE ${s}.users SET name = 'two' WHERE id = 2`);
      await qc.query(sql, [2]);
      expect(db.count).toBe(3);
    });

    it('never answers SELECT … FOR UPDATE from the cache: it takes row locks', async () => {
      const { db, qc } = await setup();
      await qc.transaction(async (tx) => tx.query(`SELECT 1`)); // warm the driver's transaction path
      const before = db.count;
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1 FOR UPDATE`, [1]);
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1 FOR UPDATE`, [1]);
      expect(db.count - before).toBe(2);
    });

    it('purges every table cached queries read after a statement whose writes it cannot see', async () => {
      const { db, qc, purges } = await setup();
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1`, [2]);
      await qc.query(`SET application_name = 'strata-test'`);
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1`, [2]);
      expect(db.count).toBe(2); // SET changes no data: still a hit
      const before = await purges();
      await qc.query(`DO $$ BEGIN UPDATE ${s}.users SET name = name WHERE id = 2; END $$`);
      expect(await purges()).toBe(before + 1);
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1`, [2]);
      // The DO block, the catalog read again after it (a DO block may change the schema), the SELECT.
      expect(db.count).toBe(5);
    });

    it('reports through the admin API’s /query-stats', async () => {
      const strata: Strata = createStrata({ manifest, admin: { token: 'query-stats-admin-token' } });
      open.push(strata);
      const qc = await queryCache(strata, counting(target.driver), { tables: { [`${s}.users`]: { ttl: 60 } } });
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1`, [1]);
      await qc.query(`SELECT id FROM ${s}.users WHERE id = $1`, [1]);
      const response = await strata.admin(
        new Request('http://app.test/api/v1/cache/query-stats', {
          headers: { authorization: 'Bearer query-stats-admin-token' },
        }),
      );
      expect(await response.json()).toMatchObject({ sql: { cached: 1, hits: 1, misses: 1, refused: 0 } });
    });

    it('never caches a statement the parser refuses, and counts it', async () => {
      const { db, qc } = await setup();
      await expect(qc.query('SELEKT * FROM nowhere', [], { cache: true })).rejects.toThrow();
      await expect(qc.query('SELEKT * FROM nowhere', [], { cache: true })).rejects.toThrow();
      expect(db.count).toBe(2);
      expect(qc.stats()).toMatchObject({ refused: 2, cached: 0 });
    });

    it('watchTables: a write from another connection invalidates through NOTIFY', async () => {
      const { strata, qc, purges } = await setup();
      const watch = await watchTables(strata, target.driver, [`${s}.users`, `${s}.posts`]);
      onTestFinished(() => watch.close());
      // Installing twice is harmless (one trigger per table, so one notification per statement).
      await (await watchTables(strata, target.driver, [`${s}.users`])).close();
      const list = `SELECT id FROM ${s}.users ORDER BY id`;
      expect((await qc.query(list)).rows).toHaveLength(2);
      const before = await purges();
      await target.external(`INSERT INTO ${s}.users VALUES (40, 'forty')`);
      await waitFor(async () => expect(await purges()).toBeGreaterThan(before));
      expect((await qc.query(list)).rows).toHaveLength(3);
      await target.external(`DELETE FROM ${s}.users WHERE id = 40`);
      await waitFor(async () => expect((await qc.query(list)).rows).toHaveLength(2));
      // Notifications for two tables committed together arrive together: one purge for both.
      const burst = await purges();
      await target.external(
        `BEGIN; UPDATE ${s}.users SET name = name; UPDATE ${s}.posts SET name = name; UPDATE ${s}.users SET name = name; COMMIT`,
      );
      await waitFor(async () => expect(await purges()).toBeGreaterThan(burst));
      expect(await purges()).toBe(burst + 1);
    });

    it('watchTables: after the listener is killed it re-LISTENs and purges every watched table', async (context) => {
      if (!target.killListener) {
        context.skip('PGlite runs in process: there is no listener connection to kill');
        return;
      }
      const { strata, qc, purges } = await setup();
      const watch = await watchTables(strata, target.driver, [`${s}.posts`]);
      onTestFinished(() => watch.close());
      const list = `SELECT id FROM ${s}.posts ORDER BY id`;
      await qc.query(list);
      const before = await purges();
      await target.killListener();
      // The gap purge: nothing was written, but nobody was listening either.
      await waitFor(async () => expect(await purges()).toBeGreaterThan(before));
      const afterGap = await purges();
      await qc.query(list);
      // Listening again: an outside write is heard.
      await target.external(`INSERT INTO ${s}.posts VALUES (50, 'fifty')`);
      await waitFor(async () => expect(await purges()).toBeGreaterThan(afterGap));
      expect((await qc.query(list)).rows).toHaveLength(3);
      await target.external(`DELETE FROM ${s}.posts WHERE id = 50`);
    });
  });
}
