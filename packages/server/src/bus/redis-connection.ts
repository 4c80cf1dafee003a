import { firstEvent } from '../first-event.js';

/**
 * The connection `redisBus` talks to: a node-redis client as it is, or a Redis Cluster behind an
 * adapter that sends every command to the master owning the stream. Replies are read in both
 * RESP2 and RESP3 shapes by the bus.
 */
export interface Connection {
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  multi(): Transaction;
  duplicate(overrides?: object): Connection;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: 'ready' | 'error', listener: () => void): unknown;
  off(event: 'ready' | 'error', listener: () => void): unknown;
}

export interface Transaction {
  addCommand(args: string[]): Transaction;
  exec(): Promise<unknown[]>;
}

/** The part of a node-redis `RedisCluster` used here (structural, so `redis` stays an optional peer). */
export interface ClusterClient {
  readonly isReady: boolean;
  readonly _options?: { defaults?: object };
  getNodeClientForKey(key: string, isReadonly?: boolean): Promise<NodeClient>;
  sendCommand(firstKey: string, isReadonly: boolean, args: string[]): Promise<unknown>;
  multi(routing: string): {
    addCommand(firstKey: string, isReadonly: boolean, args: string[]): unknown;
    exec(): Promise<unknown[]>;
  };
  duplicate(overrides?: object): ClusterClient;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

interface NodeClient {
  sendCommand(args: string[]): Promise<unknown>;
  multi(): Transaction;
}

/**
 * A Redis Cluster seen as one connection to the master that owns `key`. Every command the bus
 * sends names its stream and nothing else (XADD, XLEN, XREAD, XINFO STREAM, XRANGE), so all of
 * them, MULTI included, go to that one node and no command can cross slots: the stream needs no
 * hash tag.
 *
 * Commands are handed to the node's connection in the order they were issued, as on a single
 * client: the bus relies on it (a publish made after a subscribe() is queued behind the reader's
 * look-up of the stream's end). The cluster's own routing does not promise that, so each command
 * is routed only once the previous one is on the wire. A command answered MOVED or ASK (the slot
 * is moving or moved to another master; the command did not run) is sent once more through the
 * cluster's own routing, which follows the redirect and refreshes the slot map.
 *
 * `connect()` keeps trying with `retryDelay` until it succeeds or the connection is ended: unlike
 * a single client, a cluster whose first discovery fails does not retry by itself. 'ready' is
 * the cluster's 'connect' (topology discovered); node connections reconnect on their own.
 */
export function clusterConnection(
  cluster: ClusterClient,
  key: string,
  retryDelay: (failures: number) => number,
): Connection {
  const ended = new AbortController();
  let queue: Promise<void> = Promise.resolve();

  const onNode = <T>(run: (node: NodeClient) => Promise<T>, rerouted: () => Promise<T>): Promise<T> => {
    const previous = queue;
    let handedOver = () => {};
    queue = new Promise((resolve) => {
      handedOver = resolve;
    });
    return (async () => {
      try {
        await previous;
        const reply = run(await cluster.getNodeClientForKey(key, false)); // the master: replicas lag
        handedOver();
        return await reply;
      } catch (error) {
        handedOver();
        if (isRedirect(error)) return rerouted();
        throw error;
      }
    })();
  };

  const event = (name: string) => (name === 'ready' ? 'connect' : name);

  return {
    get isReady() {
      return cluster.isReady;
    },
    sendCommand: (args) =>
      onNode(
        (node) => node.sendCommand(args),
        () => cluster.sendCommand(key, false, args),
      ),
    multi() {
      const commands: string[][] = [];
      const transaction: Transaction = {
        addCommand(args) {
          commands.push(args);
          return transaction;
        },
        exec: () =>
          onNode(
            (node) => {
              const multi = node.multi();
              for (const args of commands) multi.addCommand(args);
              return multi.exec();
            },
            () => {
              const multi = cluster.multi(key); // routed by the stream key
              for (const args of commands) multi.addCommand(key, false, args);
              return multi.exec();
            },
          ),
      };
      return transaction;
    },
    duplicate(overrides = {}) {
      // Connects to the stream's master only (minimizeConnections), with the cluster's defaults.
      const copy = cluster.duplicate({
        minimizeConnections: true,
        defaults: { ...cluster._options?.defaults, ...overrides },
      });
      return clusterConnection(copy, key, retryDelay);
    },
    async connect() {
      for (let failures = 0; ; failures++) {
        try {
          return await cluster.connect();
        } catch (error) {
          if (ended.signal.aborted) throw error;
          await delay(retryDelay(failures), ended.signal);
          if (ended.signal.aborted) throw error;
        }
      }
    },
    close() {
      ended.abort();
      return cluster.close();
    },
    destroy() {
      ended.abort();
      cluster.destroy();
    },
    on(name, listener) {
      return cluster.on(event(name), listener);
    },
    off(name, listener) {
      return cluster.off(event(name), listener);
    },
  };
}

/** MOVED/ASK, alone or inside a transaction (the queued command's error, or the EXECABORT it caused). */
function isRedirect(error: unknown): boolean {
  const replies = (error as { replies?: unknown } | null)?.replies;
  const errors = [error, ...(Array.isArray(replies) ? replies : [])];
  return errors.some((item) => item instanceof Error && /^(MOVED|ASK|EXECABORT) /.test(item.message));
}

/** Waits `ms`, or less if `signal` aborts first. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves after the first connection attempt, whatever its outcome (node-redis keeps retrying). */
export function firstAttempt(client: Connection, signal: AbortSignal): Promise<void> {
  const attempted = firstEvent(client, ['ready', 'error'], signal);
  client.connect().catch(() => {});
  return attempted;
}

/** Resolves once `client` is ready, or when `signal` aborts. */
export function whenReady(client: Connection, signal: AbortSignal): Promise<void> {
  if (client.isReady || signal.aborted) return Promise.resolve();
  return firstEvent(client, ['ready'], signal);
}

/** Waits for `promise`, or less if `signal` aborts first. */
export function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
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
