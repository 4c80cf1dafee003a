/** One statement's answer, the same whichever database produced it. */
export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[];
  /** Rows returned by a SELECT or changed by a write, from the command tag. */
  rowCount: number;
  /** The command tag's verb: `SELECT`, `INSERT`, `UPDATE`… */
  command: string;
}

/** Something that runs one statement: the pool, or the connection a transaction holds. */
export interface SqlConnection {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>;
}

export interface ListenOptions {
  /**
   * Called after the listening connection was lost and is listening again. Notifications sent
   * in the gap are gone, so the caller should assume anything changed.
   */
  onReconnect?: () => void;
}

export interface Listening {
  /** Stops listening and releases the dedicated connection. */
  close(): Promise<void>;
}

/**
 * The seam between the query cache and a database client: one file per client
 * (`pglite.ts`, `postgres.ts`), each a plain factory.
 */
export interface SqlDriver extends SqlConnection {
  /**
   * Runs `fn` on one dedicated connection between BEGIN and COMMIT. Throws, after ROLLBACK,
   * when `fn` throws or when the database refuses the COMMIT; resolves only once committed.
   */
  transaction<T>(fn: (tx: SqlConnection) => Promise<T>): Promise<T>;
  /** LISTENs on `channel` on a connection of its own, re-LISTENing after it is lost. */
  listen(channel: string, onNotify: (payload: string) => void, options?: ListenOptions): Promise<Listening>;
  /** Closes what the driver opened itself (not a pool or database handed to it). */
  close(): Promise<void>;
}
