import { defineManifest } from '@strata/policy';
import { createStrata } from '@strata/server';
import { afterEach, describe, expect, it } from 'vitest';
import { createDatabase } from '../../../e2e/demo-process.js';
import { type DemoData, openData } from '../../server/data.js';

const opened: DemoData[] = [];
const drops: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((data) => data.close()));
  for (const drop of drops.splice(0)) await drop();
});

describe('demo instances sharing one PostgreSQL database (real server)', () => {
  it('start together on an empty database: one creates and seeds the table, none fails', async () => {
    const database = await createDatabase('strata_demo_shared');
    drops.push(database.drop);
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
