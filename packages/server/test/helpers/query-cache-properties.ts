import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCache } from '../../src/query/query-cache.js';
import type { SqlConnection } from '../../src/query/types.js';
import { createStrata } from '../../src/strata.js';
import { manifest } from '../origin.js';
import type { QueryCacheTarget } from './query-cache-suite.js';

// Random reads and writes through the query cache — by key, by a unique non-key column, by other
// columns, key changes, inserts, deletes, upserts, transactions that commit or roll back — on a
// small table, and after every step every read the table supports, through the cache and
// straight from the database: they must agree. A row-level purge that misses a row fails here.

const IDS = [1, 2, 3, 4, 5, 6];
const CODES = ['a', 'b', 'c', 'd', 'e', 'f'];
const GROUPS = [1, 2];

type Write = { sql: string; params: unknown[] };
type Step = { kind: 'write'; write: Write } | { kind: 'transaction'; writes: Write[]; commit: boolean };

const id = fc.constantFrom(...IDS);
const write: fc.Arbitrary<Write> = fc.oneof(
  id.map((k) => ({ sql: 'UPDATE t SET val = val + 1 WHERE id = $1', params: [k] })),
  // The same row spelled as text with a leading zero: one row tag.
  fc.tuple(id, fc.nat(9)).map(([k, v]) => ({ sql: 'UPDATE t SET val = $2 WHERE id = $1::int', params: [`0${k}`, v] })),
  fc
    .tuple(id, fc.constantFrom(...CODES))
    .map(([k, c]) => ({ sql: 'UPDATE t SET code = $2 WHERE id = $1', params: [k, c] })),
  fc
    .tuple(fc.constantFrom(...CODES), fc.nat(9))
    .map(([c, v]) => ({ sql: 'UPDATE t SET val = $2 WHERE code = $1', params: [c, v] })),
  fc.constantFrom(...GROUPS).map((g) => ({ sql: 'UPDATE t SET val = val + 1 WHERE grp = $1', params: [g] })),
  fc.tuple(id, id).map(([a, b]) => ({ sql: 'UPDATE t SET id = $2 WHERE id = $1', params: [a, b] })),
  fc.tuple(id, id).map(([a, b]) => ({ sql: 'UPDATE t SET grp = 3 - grp WHERE id IN ($1, $2)', params: [a, b] })),
  fc.tuple(id, fc.constantFrom(...CODES), fc.constantFrom(...GROUPS)).map(([k, c, g]) => ({
    sql: 'INSERT INTO t (id, code, grp, val) VALUES ($1, $2, $3, 0)',
    params: [k, c, g],
  })),
  fc.tuple(id, fc.constantFrom(...CODES), fc.nat(9)).map(([k, c, v]) => ({
    sql: 'INSERT INTO t (id, code, grp, val) VALUES ($1, $2, 1, $3) ON CONFLICT (id) DO UPDATE SET val = excluded.val',
    params: [k, c, v],
  })),
  id.map((k) => ({ sql: 'DELETE FROM t WHERE id = $1', params: [k] })),
  fc.constantFrom(...GROUPS).map((g) => ({ sql: 'DELETE FROM t WHERE grp = $1 AND val > 3', params: [g] })),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: write.map((w) => ({ kind: 'write' as const, write: w })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ writes: fc.array(write, { minLength: 1, maxLength: 3 }), commit: fc.boolean() })
      .map((t) => ({ kind: 'transaction' as const, ...t })),
  },
);

/** Every read the table supports; each one through the cache must equal the database's answer. */
const READS: Write[] = [
  ...IDS.map((k) => ({ sql: 'SELECT * FROM t WHERE id = $1', params: [k] })),
  { sql: 'SELECT * FROM t WHERE id IN ($1, $2) ORDER BY id', params: [1, 4] },
  { sql: 'SELECT * FROM t WHERE id = ANY($1) ORDER BY id', params: [[2, 5]] },
  ...CODES.map((c) => ({ sql: 'SELECT id, code, grp, val FROM t WHERE code = $1', params: [c] })),
  ...GROUPS.map((g) => ({ sql: 'SELECT id, val FROM t WHERE grp = $1 ORDER BY id', params: [g] })),
  { sql: 'SELECT count(*)::int AS n, coalesce(sum(val), 0)::int AS s FROM t', params: [] },
];

/** The statement on the suite's own schema. */
const inSchema = (sql: string, schema: string) => sql.replace(/\b(FROM|UPDATE|INTO) t\b/, `$1 ${schema}.t`);

/** Runs a write; a taken key or code (unique_violation), which random writes meet, is no failure. */
async function attempt(db: SqlConnection, w: Write, schema: string): Promise<boolean> {
  try {
    await db.query(inSchema(w.sql, schema), w.params);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    return false;
  }
}

/** The property for one database, as the contract suite takes it. */
export function queryCachePropertySuite(name: string, connect: () => Promise<QueryCacheTarget>): void {
  describe(name, () => {
    let target: QueryCacheTarget;
    beforeAll(async () => {
      target = await connect();
      await target.driver.query(
        `CREATE TABLE ${target.schema}.t (id int PRIMARY KEY, code text UNIQUE NOT NULL, grp int NOT NULL, val int NOT NULL)`,
      );
    });
    afterAll(async () => {
      await target?.close();
    });

    it('never answers a read with anything but what the database holds', async () => {
      const s = target.schema;
      const qualify = (r: Write) => ({ sql: inSchema(r.sql, s), params: r.params });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          await target.driver.query(`DELETE FROM ${s}.t`);
          await target.driver.query(
            `INSERT INTO ${s}.t VALUES (1, 'a', 1, 0), (2, 'b', 1, 0), (3, 'c', 2, 0), (4, 'd', 2, 0)`,
          );
          const strata = createStrata({ manifest });
          try {
            const qc = await queryCache(strata, target.driver, { tables: 'all' });
            const check = async (after: string) => {
              for (const read of READS.map(qualify)) {
                const cached = await qc.query(read.sql, read.params);
                const truth = await target.driver.query(read.sql, read.params);
                expect(cached.rows, `${read.sql} ${JSON.stringify(read.params)} after ${after}`).toEqual(truth.rows);
              }
            };
            await check('the start');
            for (const [i, next] of steps.entries()) {
              if (next.kind === 'write') await attempt(qc, next.write, s);
              else {
                await qc
                  .transaction(async (tx) => {
                    for (const w of next.writes) {
                      await tx.query('SAVEPOINT w');
                      const done = await attempt(tx, w, s);
                      await tx.query(done ? 'RELEASE SAVEPOINT w' : 'ROLLBACK TO SAVEPOINT w');
                    }
                    if (!next.commit) throw new Error('rolled back');
                  })
                  .catch((error: Error) => {
                    if (error.message !== 'rolled back') throw error;
                  });
              }
              await check(`step ${i}: ${JSON.stringify(next)}`);
            }
          } finally {
            await strata.close();
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}
