import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver, postgresDriver } from '@strata/server/sql';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { queryCachePropertySuite } from '../helpers/query-cache-properties.js';
import { type QueryCacheTarget, queryCacheSuite } from '../helpers/query-cache-suite.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pglite(): Promise<QueryCacheTarget> {
  const db = new PGlite();
  const schema = `strata_qc_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await db.query(`CREATE SCHEMA ${schema}`);
  const driver = pgliteDriver(db);
  return {
    driver,
    schema,
    // PGlite is one connection: "another client" is the database handle itself, around the wrapper.
    external: async (sql) => void (await db.exec(sql)),
    async close() {
      await driver.close();
      await db.close();
    },
  };
}

async function postgres(): Promise<QueryCacheTarget> {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const schema = `strata_qc_${id}`;
  const applicationName = `strata-qc-${id}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, application_name: applicationName, max: 4 });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    throw new Error(
      `PostgreSQL is unreachable at DATABASE_URL=${DATABASE_URL}: start it or point DATABASE_URL at one (${String(error)})`,
    );
  }
  await pool.query(`CREATE SCHEMA ${schema}`);
  const driver = postgresDriver(pool, { backoffMs: 20 });
  const other = new pg.Client({ connectionString: DATABASE_URL });
  await other.connect();
  return {
    driver,
    schema,
    external: async (sql) => void (await other.query(sql)),
    async killListener() {
      const killed = await other.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE application_name = $1 AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
        [applicationName],
      );
      if (!killed.rowCount) throw new Error('found no listener connection to kill');
    },
    async close() {
      await driver.close();
      await other.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await other.end();
      await pool.end();
    },
  };
}

queryCacheSuite('query cache on PGlite (in memory)', pglite);
queryCacheSuite(`query cache on PostgreSQL (${DATABASE_URL})`, postgres);
queryCachePropertySuite('query cache properties on PGlite (in memory)', pglite);
queryCachePropertySuite(`query cache properties on PostgreSQL (${DATABASE_URL})`, postgres);

describe('postgresDriver({ connectionString })', () => {
  it('opens its own pool and listener connection and closes both', async () => {
    const driver = postgresDriver({ connectionString: DATABASE_URL });
    const heard: string[] = [];
    const channel = `strata_qc_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const listening = await driver.listen(channel, (payload) => heard.push(payload));
    const result = await driver.query<{ n: number }>('SELECT $1::int AS n', [7]);
    expect(result).toMatchObject({ rows: [{ n: 7 }], rowCount: 1, command: 'SELECT' });
    await driver.query('SELECT pg_notify($1, $2)', [channel, 'hello']);
    await vi.waitFor(() => expect(heard).toEqual(['hello']), { timeout: 5_000, interval: 10 });
    await listening.close();
    await driver.close();
    await expect(driver.query('SELECT 1')).rejects.toThrow();
  });
});
