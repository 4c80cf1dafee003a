import { PGlite } from '@electric-sql/pglite';
import type { Strata } from '@strata/server';
import {
  pgliteDriver,
  postgresDriver,
  type QueryCache,
  queryCache,
  type SqlConnection,
  type SqlDriver,
} from '@strata/server/sql';
import { type Dashboard, ROLES, TEAMS, type User, type UserPage } from '../common/api.js';

/** What an edit may change. */
export type UserPatch = { [K in 'name' | 'email' | 'role' | 'team' | 'bio']?: User[K] | undefined };

/** The aggregates the database computes; the route adds who asked and when. */
export type DashboardData = Omit<Dashboard, 'viewer' | 'generatedAt'>;

export interface DataOptions {
  /** node-postgres connection string; unset: an embedded PGlite database in memory. */
  databaseUrl?: string | undefined;
  /** Milliseconds each statement that reaches the database waits first: a remote database's cost. */
  delayMs: number;
  /** Rows the database generates and sums before each statement: CPU work in the database. Default 0. */
  work?: number;
  /** Rows seeded into an empty table. */
  seedUsers: number;
  /** Read through Strata's query cache. Default true; false queries the database every time. */
  queryCache?: boolean;
}

export interface DemoData {
  usersPage(page: number, perPage: number): Promise<UserPage>;
  user(id: number): Promise<User | undefined>;
  /** Updates and returns the row, or undefined when there is none. */
  updateUser(id: number, patch: UserPatch): Promise<User | undefined>;
  dashboard(): Promise<DashboardData>;
  /** Statements that reached the database (the query cache's misses and every write). */
  readonly statements: number;
  readonly driver: 'pglite' | 'postgres';
  /** Undefined when the data layer runs without it. */
  readonly queryCache: QueryCache | undefined;
  close(): Promise<void>;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Lee'];

const COLUMNS = `id, name, email, role, team, bio, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "updatedAt"`;

/** Deterministic seed rows, so every instance sharing a database agrees on the first page. */
export function seedRows(count: number): Omit<User, 'id' | 'updatedAt'>[] {
  return Array.from({ length: count }, (_, i) => {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length] as string;
    const generation = Math.floor(i / (FIRST.length * LAST.length));
    const name = generation === 0 ? `${first} ${last}` : `${first} ${last} ${generation + 1}`;
    return {
      name,
      email: `${name.toLowerCase().replaceAll(' ', '.')}@example.com`,
      role: ROLES[i % ROLES.length] as string,
      team: TEAMS[(i * 7) % TEAMS.length] as string,
      bio: `${first} works on ${TEAMS[(i * 7) % TEAMS.length]}.`,
    };
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The driver, with the configured cost before each statement — a wait (`delayMs`), work the
 * database does (`work` rows generated and summed on the same connection) — and a count of them.
 */
function slowed(driver: SqlDriver, delayMs: number, work: number, counted: () => void): SqlDriver {
  const wrap = (connection: SqlConnection): SqlConnection => ({
    async query(sql, params) {
      counted();
      if (delayMs > 0) await pause(delayMs);
      if (work > 0) await connection.query('SELECT sum(i) FROM generate_series(1, $1::int) AS i', [work]);
      return connection.query(sql, params);
    },
  });
  return {
    ...wrap(driver),
    transaction: (fn) => driver.transaction((tx) => fn(wrap(tx))),
    listen: (channel, onNotify, options) => driver.listen(channel, onNotify, options),
    close: () => driver.close(),
  };
}

/** Any fixed number: the advisory lock instances take while they create and seed the schema. */
const SCHEMA_LOCK = 0x5354_5241;

async function createSchema(driver: SqlDriver, seedUsers: number): Promise<void> {
  // Instances sharing a database often start together, and two concurrent `CREATE TABLE IF NOT
  // EXISTS` can both try to create the table's row type: one fails on pg_type's unique index.
  // A transaction-scoped advisory lock makes them take turns.
  await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await createTable(tx, seedUsers);
  });
}

async function createTable(driver: SqlConnection, seedUsers: number): Promise<void> {
  await driver.query(`CREATE TABLE IF NOT EXISTS demo_users (
    id serial PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    role text NOT NULL,
    team text NOT NULL,
    bio text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
  )`);
  const rows = seedRows(seedUsers);
  // Seeds an empty table only, in one statement: instances that start together cannot both seed.
  await driver.query(
    `INSERT INTO demo_users (name, email, role, team, bio)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     WHERE NOT EXISTS (SELECT 1 FROM demo_users)`,
    [
      rows.map((r) => r.name),
      rows.map((r) => r.email),
      rows.map((r) => r.role),
      rows.map((r) => r.team),
      rows.map((r) => r.bio),
    ],
  );
}

/**
 * The demo's data layer: SQL on PGlite (embedded, the default) or PostgreSQL (`DATABASE_URL`),
 * read through Strata's query cache, so repeated queries skip the database and every write
 * purges what read its table.
 */
export async function openData(strata: Strata, options: DataOptions): Promise<DemoData> {
  const raw = options.databaseUrl
    ? postgresDriver({ connectionString: options.databaseUrl })
    : pgliteDriver(await PGlite.create());
  await createSchema(raw, options.seedUsers);
  let statements = 0;
  const driver = slowed(raw, options.delayMs, options.work ?? 0, () => {
    statements += 1;
  });
  const cache =
    options.queryCache === false
      ? undefined
      : await queryCache(strata, driver, { tables: { demo_users: { ttl: 300 } } });
  const db: Pick<QueryCache, 'query' | 'close'> = cache ?? {
    query: (sql, params) => driver.query(sql, params),
    close: () => driver.close(),
  };

  const user = async (id: number): Promise<User | undefined> => {
    const { rows } = await db.query<User>(`SELECT ${COLUMNS} FROM demo_users WHERE id = $1`, [id]);
    return rows[0];
  };

  return {
    async usersPage(page, perPage) {
      const [{ rows }, count] = await Promise.all([
        db.query<UserPage['users'][number]>(
          'SELECT id, name, role, team FROM demo_users ORDER BY id LIMIT $1 OFFSET $2',
          [perPage, (page - 1) * perPage],
        ),
        db.query<{ total: number }>('SELECT count(*)::int AS total FROM demo_users'),
      ]);
      const total = count.rows[0]?.total ?? 0;
      return { users: rows, page, perPage, total, pages: Math.max(1, Math.ceil(total / perPage)) };
    },
    user,
    async updateUser(id, patch) {
      const fields = Object.entries(patch).filter(([, value]) => value !== undefined);
      if (fields.length === 0) return user(id);
      const sets = fields.map(([column], i) => `${column} = $${i + 2}`).join(', ');
      const { rows } = await db.query<User>(
        `UPDATE demo_users SET ${sets}, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, ...fields.map(([, value]) => value)],
      );
      return rows[0];
    },
    async dashboard() {
      const [total, byRole, byTeam, recent] = await Promise.all([
        db.query<{ users: number }>('SELECT count(*)::int AS users FROM demo_users'),
        db.query<{ role: string; users: number }>(
          'SELECT role, count(*)::int AS users FROM demo_users GROUP BY role ORDER BY role',
        ),
        db.query<{ team: string; users: number }>(
          'SELECT team, count(*)::int AS users FROM demo_users GROUP BY team ORDER BY team',
        ),
        db.query<DashboardData['recentlyUpdated'][number]>(
          `SELECT id, name, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "updatedAt"
           FROM demo_users ORDER BY updated_at DESC, id LIMIT 5`,
        ),
      ]);
      return {
        users: total.rows[0]?.users ?? 0,
        byRole: byRole.rows,
        byTeam: byTeam.rows,
        recentlyUpdated: recent.rows,
      };
    },
    get statements() {
      return statements;
    },
    driver: options.databaseUrl ? 'postgres' : 'pglite',
    queryCache: cache,
    close: () => db.close(),
  };
}
