// `@strata/server/sql`: the SQL query cache. Its clients are optional peer dependencies, each
// loaded on first use: `libpg-query` by `loadSqlParser()` / `queryCache()`, `pg` by
// `postgresDriver`; `pgliteDriver` takes the PGlite database you created.
export { type PgliteDatabase, type PgliteRunner, pgliteDriver } from './query/pglite.js';
export { type PgPool, type PgQueryable, type PostgresDriverOptions, postgresDriver } from './query/postgres.js';
export {
  type QueryCache,
  type QueryCacheOptions,
  type QueryCacheStats,
  type QueryOptions,
  type QueryStat,
  queryCache,
  sqlCodec,
  type TableRule,
} from './query/query-cache.js';
export { loadSqlParser, type SqlOptions, tablesFromSql } from './query/sql.js';
export type { Listening, ListenOptions, SqlConnection, SqlDriver, SqlResult } from './query/types.js';
export { type TableWatch, type WatchOptions, watchTables } from './query/watch.js';
