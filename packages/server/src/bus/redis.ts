import { StrataError } from '@strata/policy';
import { isCluster, type RedisConnectionOptions, reconnectDelay, redisSource } from '../redis/connection.js';
import { checkEvent, wireOf } from './event.js';
import { busUnavailable, FanOut, Subscriber } from './fanout.js';
import { type ClusterClient, type Connection, clusterConnection, firstAttempt } from './redis-connection.js';
import { StreamReader } from './redis-reader.js';
import { FIELD } from './redis-stream.js';
import type { Bus, Subscription } from './types.js';

export type RedisBusOptions = RedisConnectionOptions & {
  /**
   * The stream key. Default `strata:purges`. Every command names this one key, so on Redis
   * Cluster it needs no hash tag: the stream lives on the master that owns its slot.
   */
  stream?: string;
  /**
   * Events kept for replay, at least: `MAXLEN ~` trims whole stream nodes (100 entries by default),
   * so up to a node more may stay. Use the same value on every instance. Default 10 000.
   */
  retain?: number;
  /** How long one blocking read waits before it is renewed. `close()` never waits for it. Default 5 000 ms. */
  blockMs?: number;
};

/**
 * The durable purge log on a Redis Stream (Redis 7). `publish` is one `XADD … MAXLEN ~ retain`;
 * its id is the stream id. Each instance runs one reader — a blocking `XREAD` on a connection of
 * its own — that fans events out to local subscribers in order; a subscriber that resumes from
 * an id first replays the stream after it (`XRANGE`, in pages) while the live events it misses
 * meanwhile are held, then drops the overlap. Every command names the stream and no other key,
 * so on Redis Cluster everything, MULTI and the blocking read included, goes to the stream's
 * master (see `clusterConnection`) and nothing crosses slots.
 *
 * Resume rules: as `memoryBus` (see there), judged on an atomic `XINFO STREAM` + `XRANGE`: an
 * id after `last-generated-id`, absent from a stream that never lost it, or on a stream that does
 * not exist is 'unknown'; an id older than what trimming or XDEL removed is 'retention'.
 *
 * Redis going away: `publish` rejects at once (`E_BUS_UNAVAILABLE`) so the caller can keep the
 * event in an outbox; node-redis reconnects with backoff; the reader then checks its position
 * against the stream before reading on. If the stream still holds it (a network blip, a killed
 * connection), nothing is lost or repeated. If the stream is gone or no longer knows the id
 * (Redis restarted without persistence), every subscriber gets one `reset` 'log-lost' and the
 * reader continues from the new stream's end. Loss is detected across reconnections; a FLUSHALL
 * on a live connection is not noticed.
 */
export function redisBus(options: RedisBusOptions): Bus {
  const stream = options.stream ?? 'strata:purges';
  const retain = options.retain ?? 10_000;
  const blockMs = options.blockMs ?? 5_000;
  if (!Number.isSafeInteger(retain) || retain < 1) {
    throw new StrataError('E_CONFIG_INVALID', `redisBus: retain must be a positive integer, got ${String(retain)}`);
  }
  if (!Number.isSafeInteger(blockMs) || blockMs < 0) {
    throw new StrataError(
      'E_CONFIG_INVALID',
      `redisBus: blockMs must be a non-negative integer, got ${String(blockMs)}`,
    );
  }
  const fanout = new FanOut();
  const stop = new AbortController();
  let closed = false;
  const source = redisSource(options, 'redisBus');
  let base: Connection | undefined;
  let connecting: Promise<Connection> | undefined;

  /** The command connection; resolves once its first connection attempt has succeeded or failed. */
  const connection = (): Promise<Connection> => {
    connecting ??= (async () => {
      const client = await source.create();
      const created = isCluster(client)
        ? clusterConnection(client as unknown as ClusterClient, stream, reconnectDelay)
        : (client as unknown as Connection);
      if (!source.owned) {
        base = created;
        return base;
      }
      if (closed) throw busUnavailable('the Redis bus is closed');
      base = created;
      await firstAttempt(created, stop.signal);
      return created;
    })();
    connecting.catch(() => {
      connecting = undefined; // e.g. `redis` is not installed: try again next time
    });
    return connecting;
  };

  const reader = new StreamReader({ stream, retain, blockMs, connection, fanout, signal: stop.signal });

  const unavailable = (cause?: unknown) =>
    busUnavailable(`the purge stream ${stream} is unreachable: Redis is not connected`, cause);

  // Connect at once, so the first publish does not pay for the connection.
  connection().catch(() => {});

  return {
    shared: true,
    async publish(input) {
      if (closed) throw busUnavailable('the Redis bus is closed');
      checkEvent(input); // the shape checks every bus makes, before anything is written
      const body = JSON.stringify(wireOf(input));
      const c = await connection().catch((error: unknown) => {
        throw unavailable(error);
      });
      if (!c.isReady) throw unavailable();
      // The stream's length for stats() comes with the reader's next read, not from a command here.
      let id: string;
      try {
        id = String(await c.sendCommand(['XADD', stream, 'MAXLEN', '~', String(retain), '*', FIELD, body]));
      } catch (error) {
        throw busUnavailable(`the purge stream ${stream} did not take the event: ${String(error)}`, error);
      }
      reader.published(id);
      return id;
    },

    subscribe(from, listener): Subscription {
      if (closed) throw new StrataError('E_BUS_CLOSED', 'redisBus: subscribe after close()');
      const subscriber = new Subscriber(listener);
      fanout.subscribers.add(subscriber); // before the replay looks at the stream: nothing falls between
      reader.start();
      if (from === undefined) {
        // From the reader's position: everything it fans out from now on. Before the reader has
        // started, that is everything after its origin, which is looked up after this call.
        if (reader.cursor !== undefined) subscriber.seek(reader.cursor);
        subscriber.goLive();
      } else {
        void reader.replay(subscriber, from);
      }
      return {
        close() {
          subscriber.close();
          fanout.subscribers.delete(subscriber);
        },
      };
    },

    stats() {
      const { lastId, retained, lagMs, readerReady } = reader.stats();
      return {
        lastId,
        retained,
        subscribers: fanout.subscribers.size,
        lagMs,
        connected: base?.isReady === true && readerReady,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      stop.abort();
      fanout.closeAll();
      await reader.stop(); // ends its blocking read now, not after `blockMs`
      // A client still being created sees `closed` and gives up; one created is ended here.
      const client = base ?? (await connecting?.catch(() => undefined));
      if (!source.owned || !client) return;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}
