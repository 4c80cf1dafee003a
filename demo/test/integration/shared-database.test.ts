import { defineManifest } from '@strata/policy';
import { createStrata } from '@strata/server';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase, postgresUrl } from '../../../e2e/demo-process.js';
import { type DemoData, openData } from '../../server/data.js';

const opened: DemoData[] = [];
const drops: { name: string; drop: () => Promise<void> }[] = [];

/**
 * Waits until no session is left on `name`. A pool's `end()` resolves before its connections have
 * closed, and dropping the database `WITH (FORCE)` meanwhile terminates them: the server's FATAL
 * would then reach a client that is still closing, in this process.
 */
async function sessionsGone(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl() });
  await client.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
        [name],
      );
      if (rows[0]?.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((data) => data.close()));
  for (const { name, drop } of drops.splice(0)) {
    await sessionsGone(name);
    await drop();
  }
});

describe('demo instances sharing one PostgreSQL database (real server)', () => {
  it('start together on an empty database: one creates and seeds the table, none fails', async () => {
    const database = await createDatabase('strata_demo_shared');
    drops.push({ name: new URL(database.url).pathname.slice(1), drop: database.drop });
    const strata = createStrata({ manifest: defineManifest({ version: 1, routes: [] }) });
    try {
      // Concurrent CREATE TABLE IF NOT EXISTS on separate connections can both try to create the
      // table's catalog rows: without the schema lock, some of these fail on a unique index.
      const starts = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          openData(strata, { databaseUrl: database.url, delayMs: 0, seedUsers: 30, queryCache: false }),
        ),
      );
      for (const start of starts) if (start.status === 'fulfilled') opened.push(start.value);
      expect(starts.filter((start) => start.status === 'rejected').map((start) => String(start.reason))).toEqual([]);
      const pages = await Promise.all(opened.map((data) => data.usersPage(1, 50)));
      for (const page of pages) expect(page.total).toBe(30); // seeded once
    } finally {
      await strata.close();
    }
  });
});
