import { StrataError } from '@strata/policy';
import type { Client, ClientConfig, Notification } from 'pg';
import { loadPeer } from '../optional-peer.js';
import type { Listening, SqlConnection, SqlDriver, SqlResult } from './types.js';

export interface PostgresDriverOptions {
  /** First delay before reconnecting a lost listener, in ms; it doubles up to `maxBackoffMs`. Default 100. */
  backoffMs?: number;
  /** Default 5,000. */
  maxBackoffMs?: number;
}

/**
 * What the driver uses of a node-postgres client. Declared here rather than imported from `pg`,
 * so these declarations type-check without `@types/pg` (a PGlite user's case).
 */
export interface PgQueryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null; command: string }>;
}

/** What the driver uses of a node-postgres `Pool`. */
export interface PgPool extends PgQueryable {
  /** Copied for the dedicated LISTEN connection. */
  readonly options: object;
  connect(): Promise<PgQueryable & { release(error?: Error | boolean): void }>;
  end(): Promise<void>;
}

function connection(client: PgQueryable): SqlConnection {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
      const result = await client.query(sql, [...params]);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0, command: result.command };
    },
  };
}

// `pg` is loaded on first use, so importing @strata/server/sql does not pull it in.
async function loadPg() {
  return (await loadPeer('pg', 'postgresDriver', () => import('pg'))).default;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A driver over node-postgres. Given a pool it uses it and leaves it open; given a connection
 * string it opens a pool of its own and ends it on `close()`. LISTEN runs on a dedicated
 * client (a pooled one would be handed to someone else), reconnected with backoff.
 */
export function postgresDriver(
  source: PgPool | { connectionString: string },
  options: PostgresDriverOptions = {},
): SqlDriver {
  const owned = !('query' in source);
  let pool: Promise<PgPool> | undefined = owned ? undefined : Promise.resolve(source as PgPool);
  const getPool = (): Promise<PgPool> => {
    pool ??= loadPg().then(
      (pg) => new pg.Pool({ connectionString: (source as { connectionString: string }).connectionString }),
    );
    return pool;
  };
  const listeners = new Set<Listening>();

  return {
    async query(sql, params) {
      return connection(await getPool()).query(sql, params);
    },
    async transaction(fn) {
      const client = await (await getPool()).connect();
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const result = await fn(connection(client));
        // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
        const commit = await client.query('COMMIT');
        if (commit.command === 'ROLLBACK')
          throw new StrataError('E_TRANSACTION_ROLLED_BACK', 'the transaction was rolled back at COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection that could not roll back is destroyed, never returned to the pool.
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    async listen(channel, onNotify, listenOptions = {}) {
      const pg = await loadPg();
      const config: ClientConfig = owned
        ? { connectionString: (source as { connectionString: string }).connectionString }
        : { ...((source as PgPool).options as ClientConfig) };
      const backoff = options.backoffMs ?? 100;
      const maxBackoff = options.maxBackoffMs ?? 5_000;
      let closed = false;
      let client: Client | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let delay = backoff;

      const connect = async (): Promise<void> => {
        const next = new pg.Client(config);
        let lost = false;
        const onLost = () => {
          if (lost) return;
          lost = true;
          next.removeAllListeners('notification');
          void next.end().catch(() => {});
          // Only a connection that was listening reconnects here; a failed attempt is retried by its caller.
          if (client !== next) return;
          client = undefined;
          if (!closed) schedule();
        };
        next.on('error', onLost);
        next.on('end', onLost);
        next.on('notification', (message: Notification) => {
          if (message.channel === channel) onNotify(message.payload ?? '');
        });
        try {
          await next.connect();
          await next.query(`LISTEN ${quoteIdent(channel)}`);
        } catch (error) {
          onLost();
          throw error;
        }
        client = next;
        if (closed) await next.end().catch(() => {});
      };
      const schedule = () => {
        if (timer || closed) return;
        timer = setTimeout(() => {
          timer = undefined;
          connect().then(
            () => {
              delay = backoff;
              listenOptions.onReconnect?.();
            },
            () => {
              delay = Math.min(delay * 2, maxBackoff);
              schedule();
            },
          );
        }, delay);
      };

      await connect();
      const listening: Listening = {
        async close() {
          if (closed) return;
          closed = true;
          listeners.delete(listening);
          if (timer) clearTimeout(timer);
          const current = client;
          client = undefined;
          current?.removeAllListeners('end');
          await current?.end().catch(() => {});
        },
      };
      listeners.add(listening);
      return listening;
    },
    async close() {
      await Promise.allSettled([...listeners].map((listening) => listening.close()));
      if (owned && pool) await (await pool).end();
    },
  };
}
