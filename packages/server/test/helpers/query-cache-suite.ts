import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type QueryCache, queryCache } from '../../src/query/query-cache.js';
import type { SqlDriver } from '../../src/query/types.js';
import { watchTables } from '../../src/query/watch.js';
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
      expect(db.count).toBe(4);
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
