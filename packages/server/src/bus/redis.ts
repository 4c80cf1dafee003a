import { StrataError } from '@strata/policy';
import type { RedisClientType, RedisClusterOptions, RedisClusterType } from 'redis';
import { loadPeer, requirePeer } from '../optional-peer.js';
import { busUnavailable, eventOf, FanOut, Subscriber } from './fanout.js';
import { compareIds, isValidId, maxId, ZERO_ID } from './ids.js';
import { type ClusterClient, type Connection, clusterConnection, delay, isCluster } from './redis-connection.js';
import type { Bus, PurgeEvent, Subscription } from './types.js';

export type RedisBusOptions = (
  | { url: string; client?: never; cluster?: never }
  /** A node-redis client or cluster, connected by the caller, who also closes it. */
  | { client: RedisClientType | RedisClusterType; url?: never; cluster?: never }
  /**
   * A Redis Cluster (`createCluster` options, e.g. `{ rootNodes: [{ url }] }`). Its node
   * connections fail fast while disconnected (no offline queue) and reconnect with backoff
   * (`defaults.socket` may change that).
   */
  | { cluster: RedisClusterOptions; url?: never; client?: never }
) & {
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

/** The stream as one atomic look (MULTI): its bookkeeping and a page of entries from a position. */
interface Snapshot {
  exists: boolean;
  length: number;
  lastGenerated: string;
  /** Highest id removed by XDEL (Redis 7). Trimming does not move it: see `removed`. */
  maxDeleted: string;
  /** Whether any entry ever left the stream (`entries-added` > `length`); assumed on Redis < 7. */
  removed: boolean;
  first: string | undefined;
  /** From the requested position, inclusive: the first one tells whether that id is still there. */
  entries: [id: string, fields: unknown][];
}

type Verdict = 'ok' | 'retention' | 'unknown';

const FIELD = 'event';
const READ_COUNT = 500;
const PAGE = 500;
const retryDelay = (failures: number) => Math.min(50 * 2 ** failures, 1_000);

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
  if (!options.client) requirePeer('redis', 'redisBus');
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
  const owned = !options.client;
  const fanout = new FanOut();
  const stop = new AbortController();
  let closed = false;
  let base: Connection | undefined;
  let connecting: Promise<Connection> | undefined;
  let reader: Connection | undefined;
  let loop: Promise<void> | undefined;
  /** Where the reader is: the last id it fanned out, or where it started. Set once it has started. */
  let cursor: string | undefined;
  let markStarted = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  /** Counts the log incarnations this reader has seen (resets it announced). */
  let epoch = 0;
  let lastKnown: string | undefined;
  let retained = 0;
  let lagMs = 0;

  // ---- connections -------------------------------------------------------------------------

  /** The command connection; resolves once its first connection attempt has succeeded or failed. */
  const connection = (): Promise<Connection> => {
    connecting ??= (async () => {
      if (options.client) {
        base = isCluster(options.client)
          ? clusterConnection(options.client, stream, retryDelay)
          : (options.client as unknown as Connection);
        return base;
      }
      let created: Connection;
      if (options.cluster) {
        const { createCluster } = await loadPeer('redis', 'redisBus', () => import('redis'));
        const { defaults } = options.cluster;
        const cluster = createCluster({
          ...options.cluster,
          // As below, for every node connection: a purge goes to the outbox instead of waiting.
          defaults: {
            ...defaults,
            disableOfflineQueue: true,
            socket: { connectTimeout: 2_000, reconnectStrategy: retryDelay, ...defaults?.socket },
          },
        }) as unknown as ClusterClient;
        created = clusterConnection(cluster, stream, retryDelay);
      } else {
        const { createClient } = await loadPeer('redis', 'redisBus', () => import('redis'));
        created = createClient({
          url: options.url,
          // Fail fast while disconnected: a purge goes to the caller's outbox instead of waiting.
          disableOfflineQueue: true,
          socket: { connectTimeout: 2_000, reconnectStrategy: retryDelay },
        }) as unknown as Connection;
      }
      // Errors surface through failing commands and the reader's checks; the event needs a listener.
      created.on('error', () => {});
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

  const unavailable = (cause?: unknown) =>
    busUnavailable(`the purge stream ${stream} is unreachable: Redis is not connected`, cause);

  // ---- reading the stream ----------------------------------------------------------------

  const snapshot = async (c: Connection, from: string | undefined, count: number): Promise<Snapshot> => {
    const transaction = c.multi().addCommand(['XINFO', 'STREAM', stream]);
    if (from !== undefined) transaction.addCommand(['XRANGE', stream, from, '+', 'COUNT', String(count)]);
    let replies: unknown[];
    try {
      replies = await transaction.exec();
    } catch (error) {
      if (isNoSuchKey(error)) {
        return {
          exists: false,
          length: 0,
          lastGenerated: ZERO_ID,
          maxDeleted: ZERO_ID,
          removed: false,
          first: undefined,
          entries: [],
        };
      }
      throw error;
    }
    const info = record(replies[0]);
    const length = Number(info.get('length') ?? 0);
    const added = info.get('entries-added');
    const firstEntry = info.get('first-entry');
    return {
      exists: true,
      length,
      lastGenerated: idOr(info.get('last-generated-id'), ZERO_ID),
      maxDeleted: idOr(info.get('max-deleted-entry-id'), ZERO_ID),
      removed: added === undefined || Number(added) > length,
      first: Array.isArray(firstEntry) && isValidId(String(firstEntry[0])) ? String(firstEntry[0]) : undefined,
      entries: entriesOf(replies[1]),
    };
  };

  /** Whether the events after `from` are all in the stream (see the resume rules above). */
  const classify = (from: string, snap: Snapshot): Verdict => {
    if (!snap.exists) return from === ZERO_ID ? 'ok' : 'unknown';
    if (compareIds(from, snap.lastGenerated) > 0) return 'unknown';
    if (compareIds(from, snap.maxDeleted) < 0) return 'retention'; // an XDEL after it
    // Trimming removes the oldest entries: an id before the first one lost what followed it if
    // anything was ever removed; if nothing was, the id predates this stream (a lost log).
    if (snap.first === undefined || compareIds(from, snap.first) < 0) {
      if (snap.removed) return from === snap.lastGenerated ? 'ok' : 'retention';
      return from === ZERO_ID ? 'ok' : 'unknown';
    }
    return snap.entries[0]?.[0] === from || from === snap.maxDeleted ? 'ok' : 'unknown';
  };

  const endOf = (snap: Snapshot) => (snap.exists ? snap.lastGenerated : ZERO_ID);

  const decode = ([id, fields]: [string, unknown]): PurgeEvent => {
    try {
      const raw = JSON.parse(String(record(fields).get(FIELD))) as Omit<PurgeEvent, 'id'>;
      return eventOf(id, raw);
    } catch {
      // Not an event this bus wrote. Reading it as "purge everything" keeps the order and loses nothing.
      return eventOf(id, { tags: [], keys: [], all: true, at: Number(id.split('-')[0]) });
    }
  };

  const announceReset = (reason: 'retention' | 'log-lost', snap: Snapshot) => {
    const end = endOf(snap);
    epoch++;
    cursor = end;
    lastKnown = snap.exists ? end : undefined;
    retained = snap.length;
    lagMs = 0;
    fanout.emit({ type: 'reset', id: end, reason }, epoch);
  };

  const deliver = (entries: Snapshot['entries']) => {
    for (const entry of entries) {
      const event = decode(entry);
      cursor = event.id;
      lastKnown = maxId(lastKnown, event.id);
      lagMs = Math.max(0, Date.now() - event.at);
      fanout.emit({ type: 'purge', event }, epoch);
    }
  };

  /** After (re)connecting: is the reader's position still in this stream's history? */
  const checkPosition = async (c: Connection, from: string) => {
    const snap = await snapshot(c, from, 1);
    retained = snap.length;
    const verdict = classify(from, snap);
    if (verdict !== 'ok') announceReset(verdict === 'retention' ? 'retention' : 'log-lost', snap);
  };

  /**
   * The reader's starting point: the stream's end, looked up on the command connection as soon as
   * the first subscribe() starts the reader. A publish this process makes after that subscribe()
   * is queued behind the look-up on the same connection, so the reader cannot start past it.
   */
  const origin = async (): Promise<Connection | undefined> => {
    for (let failures = 0; !closed; ) {
      try {
        const c = await connection();
        if (!c.isReady) {
          await whenReady(c, stop.signal);
          continue;
        }
        const snap = await snapshot(c, undefined, 0);
        cursor = endOf(snap);
        retained = snap.length;
        lastKnown = maxId(lastKnown, snap.exists ? cursor : undefined);
        markStarted();
        return c;
      } catch {
        await delay(retryDelay(failures++), stop.signal);
      }
    }
    return undefined;
  };

  const read = async () => {
    const parent = await origin();
    if (!parent || closed) return;
    const c = parent.duplicate({ disableOfflineQueue: true });
    reader = c;
    c.on('error', () => {});
    c.connect().catch(() => {});
    let verified = false;
    let failures = 0;
    while (!closed) {
      try {
        if (!c.isReady) {
          await whenReady(c, stop.signal);
          continue;
        }
        const from = cursor ?? ZERO_ID;
        if (!verified) {
          await checkPosition(c, from);
          verified = true;
          continue; // the position may have moved
        }
        // Sent together (pipelined): the length for stats() costs no extra round trip, and it
        // answers at once, before the read blocks.
        c.sendCommand(['XLEN', stream]).then(
          (count) => {
            if (typeof count === 'number') retained = count;
          },
          () => {},
        );
        const reply = await c.sendCommand([
          'XREAD',
          'COUNT',
          String(READ_COUNT),
          'BLOCK',
          String(blockMs),
          'STREAMS',
          stream,
          from,
        ]);
        failures = 0;
        let entries = entriesOf(streamOf(reply, stream));
        if (entries.length === 0) {
          lagMs = 0; // a whole blocking read without news: caught up
          continue;
        }
        // MAXLEN ~ keeps at least `retain` entries, so a batch smaller than that cannot have been
        // overtaken by trimming. A bigger one may: read it again together with the stream's
        // bookkeeping in one atomic look, so the verdict and the entries agree.
        if (entries.length >= Math.min(retain, READ_COUNT)) {
          const snap = await snapshot(c, from, READ_COUNT + 1);
          const verdict = classify(from, snap);
          if (verdict !== 'ok') {
            announceReset(verdict === 'retention' ? 'retention' : 'log-lost', snap);
            continue;
          }
          entries = snap.entries.filter(([id]) => compareIds(id, from) > 0);
        }
        deliver(entries);
      } catch {
        if (closed) break;
        verified = false; // the connection may have dropped: the stream may be another one now
        if (c.isReady) await delay(retryDelay(failures++), stop.signal);
      }
    }
  };

  const startReader = () => {
    loop ??= read();
  };

  /** One subscriber's catch-up: replay after `from`, then hand over to the live fan-out. */
  const replay = async (subscriber: Subscriber, from: string) => {
    const { signal } = subscriber;
    // Replaying only once the reader has its position keeps the hand-over gap-free: the replay
    // ends at the stream's end as read after that, and the reader delivers everything later.
    await abortable(started, signal);
    let position = from;
    for (let failures = 0; !signal.aborted; ) {
      try {
        const c = await connection();
        if (!c.isReady) {
          await whenReady(c, signal);
          continue;
        }
        const covered = epoch;
        const valid = isValidId(position);
        const snap = await snapshot(c, valid ? position : undefined, PAGE + 1);
        if (signal.aborted) return;
        const verdict = valid ? classify(position, snap) : 'unknown';
        if (verdict !== 'ok') {
          subscriber.replay({ type: 'reset', id: endOf(snap), reason: verdict });
          subscriber.goLive(covered);
          return;
        }
        if (subscriber.cursor === undefined) subscriber.seek(position);
        for (const entry of snap.entries) subscriber.replay({ type: 'purge', event: decode(entry) });
        lastKnown = maxId(lastKnown, snap.exists ? snap.lastGenerated : undefined);
        if (snap.entries.length <= PAGE) {
          subscriber.goLive(covered);
          return;
        }
        position = subscriber.cursor ?? position;
        failures = 0;
      } catch {
        position = subscriber.cursor ?? position;
        await delay(retryDelay(failures++), signal);
      }
    }
  };

  // Connect at once, so the first publish does not pay for the connection.
  connection().catch(() => {});

  return {
    async publish(input) {
      if (closed) throw busUnavailable('the Redis bus is closed');
      eventOf(ZERO_ID, input); // the shape checks every bus makes, before anything is written
      const { tags, keys, partition, all, at } = input;
      const body = JSON.stringify({ tags, keys, partition, all, at }); // undefined members are left out
      const c = await connection().catch((error: unknown) => {
        throw unavailable(error);
      });
      if (!c.isReady) throw unavailable();
      const added = c.sendCommand(['XADD', stream, 'MAXLEN', '~', String(retain), '*', FIELD, body]);
      const length = c.sendCommand(['XLEN', stream]).catch(() => undefined);
      let id: string;
      try {
        id = String(await added);
      } catch (error) {
        throw busUnavailable(`the purge stream ${stream} did not take the event: ${String(error)}`, error);
      }
      const count = await length;
      if (typeof count === 'number') retained = count;
      lastKnown = maxId(lastKnown, id);
      return id;
    },

    subscribe(from, listener): Subscription {
      if (closed) throw new StrataError('E_BUS_CLOSED', 'redisBus: subscribe after close()');
      const subscriber = new Subscriber(listener);
      fanout.subscribers.add(subscriber); // before the replay looks at the stream: nothing falls between
      startReader();
      if (from === undefined) {
        // From the reader's position: everything it fans out from now on. Before the reader has
        // started, that is everything after its origin, which is looked up after this call.
        if (cursor !== undefined) subscriber.seek(cursor);
        subscriber.goLive();
      } else {
        void replay(subscriber, from);
      }
      return {
        close() {
          subscriber.close();
          fanout.subscribers.delete(subscriber);
        },
      };
    },

    stats() {
      return {
        lastId: lastKnown,
        retained,
        subscribers: fanout.subscribers.size,
        lagMs,
        connected: base?.isReady === true && (reader === undefined || reader.isReady),
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      stop.abort();
      fanout.closeAll();
      // Destroying the reader's connection ends its blocking read now, not after `blockMs`.
      reader?.destroy();
      await loop;
      // A client still being created sees `closed` and gives up; one created is ended here.
      const client = base ?? (await connecting?.catch(() => undefined));
      if (!owned || !client) return;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    },
  };
}

// ---- helpers ----------------------------------------------------------------------------------

/** Resolves after the first connection attempt, whatever its outcome (node-redis keeps retrying). */
function firstAttempt(client: Connection, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      client.off('ready', done);
      client.off('error', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    client.on('ready', done);
    client.on('error', done);
    signal.addEventListener('abort', done, { once: true });
    client.connect().catch(() => {});
  });
}

function whenReady(client: Connection, signal: AbortSignal): Promise<void> {
  if (client.isReady || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      client.off('ready', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    client.on('ready', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Waits for `promise`, or less if `signal` aborts first. */
function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    promise.then(done, (error: unknown) => {
      signal.removeEventListener('abort', done);
      reject(error);
    });
  });
}

/** `ERR no such key` from XINFO inside a transaction (node-redis: MultiErrorReply). */
function isNoSuchKey(error: unknown): boolean {
  const replies = (error as { replies?: unknown } | null)?.replies;
  const failed = Array.isArray(replies) ? replies : [error];
  return failed.some((reply) => reply instanceof Error && /no such key/i.test(reply.message));
}

/** A RESP3 map (object or Map) or a RESP2 flat list of pairs, as a Map. */
function record(reply: unknown): Map<string, unknown> {
  if (reply instanceof Map) return new Map([...reply].map(([key, value]) => [String(key), value]));
  if (Array.isArray(reply)) {
    const map = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
    return map;
  }
  if (reply !== null && typeof reply === 'object') return new Map(Object.entries(reply));
  return new Map();
}

function idOr(value: unknown, fallback: string): string {
  const id = value === undefined || value === null ? '' : String(value);
  return isValidId(id) ? id : fallback;
}

/** XRANGE / one stream of XREAD: `[[id, [field, value, …]], …]`. */
function entriesOf(reply: unknown): [string, unknown][] {
  if (!Array.isArray(reply)) return [];
  const entries: [string, unknown][] = [];
  for (const item of reply) {
    if (Array.isArray(item) && isValidId(String(item[0]))) entries.push([String(item[0]), item[1]]);
  }
  return entries;
}

/** One stream's entries out of an XREAD reply: RESP3 map, RESP2 `[[key, entries]]`, or null on timeout. */
function streamOf(reply: unknown, stream: string): unknown {
  if (Array.isArray(reply)) {
    for (const item of reply) if (Array.isArray(item) && String(item[0]) === stream) return item[1];
    return undefined;
  }
  if (reply instanceof Map) return reply.get(stream);
  if (reply !== null && typeof reply === 'object' && Object.hasOwn(reply, stream)) {
    return (reply as Record<string, unknown>)[stream];
  }
  return undefined;
}
