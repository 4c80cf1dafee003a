import type { SqlConnection, SqlDriver, SqlResult } from './types.js';

/**
 * What the driver uses of a PGlite database or transaction. Declared here rather than imported,
 * so these declarations type-check without `@electric-sql/pglite` installed (a `pg` user's case).
 */
export interface PgliteRunner {
  query<Row>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: Row[]; affectedRows?: number; rowCount?: number; command?: string }>;
}

/** What the driver uses of a `PGlite` instance (`new PGlite()` or `await PGlite.create()`). */
export interface PgliteDatabase extends PgliteRunner {
  transaction<T>(fn: (tx: PgliteRunner) => Promise<T>): Promise<T>;
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
}

function connection(runner: PgliteRunner): SqlConnection {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
      const result = await runner.query<Row>(sql, [...params]);
      return {
        rows: result.rows,
        rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
        command: result.command ?? '',
      };
    },
  };
}

/**
 * A driver over an embedded PGlite database. PGlite is one in-process connection: its LISTEN
 * cannot be cut off, so `onReconnect` is never called. The database stays open on `close()`.
 */
export function pgliteDriver(db: PgliteDatabase): SqlDriver {
  const main = connection(db);
  const listeners = new Set<() => Promise<void>>();
  return {
    query: main.query,
    transaction: (fn) => db.transaction((tx) => fn(connection(tx))),
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, onNotify);
      const stop = async () => {
        if (!listeners.delete(stop)) return;
        await unlisten();
      };
      listeners.add(stop);
      return { close: stop };
    },
    async close() {
      await Promise.allSettled([...listeners].map((stop) => stop()));
    },
  };
}
