import { tableTag } from '../purge-channel.js';
import type { Strata } from '../strata.js';
import type { SqlDriver } from './types.js';

export interface WatchOptions {
  /** The NOTIFY channel. Default `strata_table_change`. */
  channel?: string;
  /** Notifications within this many ms become one purge. Default 5. */
  coalesceMs?: number;
  /** Called when a purge fails; the next notification or reconnect tries again. */
  onError?: (error: unknown) => void;
}

export interface TableWatch {
  /** Stops listening. The triggers stay: they cost one NOTIFY per statement. */
  close(): Promise<void>;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Invalidation from anywhere: a statement-level trigger on each table NOTIFYs its name on every
 * write — psql, a migration, another service — and the listener purges `table:<schema>.<name>`.
 * Installing is idempotent. After a reconnect every watched table is purged, since changes made
 * while nobody listened were not heard.
 */
export async function watchTables(
  strata: Strata,
  driver: SqlDriver,
  tables: readonly string[],
  options: WatchOptions = {},
): Promise<TableWatch> {
  const channel = options.channel ?? 'strata_table_change';
  const names = [...new Set(tables.map((table) => tableTag(table).slice('table:'.length)))];
  for (const schema of new Set(names.map((name) => name.split('.')[0] as string))) {
    await driver.query(
      `CREATE OR REPLACE FUNCTION ${quoteIdent(schema)}.strata_notify_table_change() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         PERFORM pg_notify(TG_ARGV[0], TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME);
         RETURN NULL;
       END $$`,
    );
  }
  for (const name of names) {
    const [schema, table] = name.split('.') as [string, string];
    const target = `${quoteIdent(schema)}.${quoteIdent(table)}`;
    // Drop and create in one transaction rather than CREATE OR REPLACE TRIGGER, which needs PostgreSQL 14.
    await driver.transaction(async (tx) => {
      await tx.query(`DROP TRIGGER IF EXISTS strata_table_change ON ${target}`);
      await tx.query(
        `CREATE TRIGGER strata_table_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${target}
         FOR EACH STATEMENT EXECUTE FUNCTION ${quoteIdent(schema)}.strata_notify_table_change(${quoteLiteral(channel)})`,
      );
    });
  }

  const watched = new Set(names);
  const pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    const tags = [...pending].map((name) => `table:${name}`);
    pending.clear();
    if (tags.length === 0) return;
    strata.purge({ tags }).catch((error: unknown) => options.onError?.(error));
  };
  const changed = (names: Iterable<string>) => {
    for (const name of names) pending.add(name);
    timer ??= setTimeout(flush, options.coalesceMs ?? 5);
  };

  const listening = await driver.listen(
    channel,
    (payload) => {
      // Another app's tables on the same channel are none of this watcher's business.
      if (watched.has(payload)) changed([payload]);
    },
    { onReconnect: () => changed(watched) },
  );
  return {
    async close() {
      await listening.close();
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}
