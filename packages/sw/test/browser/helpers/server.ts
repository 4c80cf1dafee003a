import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { headersForRequest, type Manifest, PARTITION_HEADER, partitionHash } from '@strata/policy';

/**
 * A real HTTP/1.1 server on 127.0.0.1 for the browser tests: the fixture page, the service
 * worker under test, API routes whose behaviour each test controls, and a stand-in for the
 * server's purge stream (SSE in the format @strata/server will speak: `id:` + `data:` per purge,
 * `event: reset`, a `retry:` hint, heartbeat comments, replay from `?since=`).
 */

/** What one API path does. Created on first use; tests change it between requests. */
export interface ApiRoute {
  /** Requests received. */
  hits: number;
  /** Bumped by the test to change the body the origin returns. */
  version: number;
  /** Answer with this status (and no caching), instead of 200. */
  failWith: number | undefined;
  /** Response headers added to (or replacing) the manifest's and the default Cache-Status. */
  headers: Record<string, string>;
  /** Hold the next request open until the test releases it. */
  hold(): Held;
}

export interface Held {
  /** Resolves when the held request has arrived. */
  arrived: Promise<void>;
  /** Answers the held request. */
  release(): void;
}

export interface PurgeEvent {
  id: string;
  event?: 'reset';
  data: { tags?: string[]; keys?: string[] };
}

export interface SseStandIn {
  /** Connections open now. */
  readonly open: number;
  /** Connections ever made. */
  readonly total: number;
  /** The `since` parameter of each connection, in order (null when absent). */
  readonly since: (string | null)[];
  /** The Authorization and Last-Event-ID request headers of each connection, in order. */
  readonly requests: { authorization: string | null; lastEventId: string | null }[];
  /** Appends to the replay log and sends to every open connection. */
  publish(event: Omit<PurgeEvent, 'id'>): string;
  /** Closes every open connection (the browser reconnects). */
  dropAll(): void;
  /** Forgets the log up to `id`: a client resuming from before it gets `event: reset`. */
  forgetUpTo(id: string): void;
  /** Resolves when `open` satisfies `predicate`. */
  waitFor(predicate: (s: SseStandIn) => boolean): Promise<void>;
}

export interface TestServer {
  readonly url: string;
  readonly origin: string;
  /** The service worker served at /sw.js. */
  sw: string;
  /** The page-side client bundle served at /client.js (client tests). */
  client: string;
  api(path: string): ApiRoute;
  readonly sse: SseStandIn;
  close(): Promise<void>;
}

const PAGE = '<!doctype html><meta charset="utf-8"><title>strata test</title><script src="/client.js"></script>';

export interface TestServerOptions {
  /** Serves /strata/events instead of the stand-in: a real @strata/server purge stream. */
  events?: (req: IncomingMessage, res: ServerResponse) => void;
}

export async function startTestServer(manifest: Manifest, options: TestServerOptions = {}): Promise<TestServer> {
  const routes = new Map<string, ApiRoute & { holds: ((answer: () => void) => void)[] }>();
  const api = (path: string) => {
    let route = routes.get(path);
    if (!route) {
      const holds: ((answer: () => void) => void)[] = [];
      route = {
        hits: 0,
        version: 1,
        failWith: undefined,
        headers: {},
        holds,
        hold(): Held {
          let arrived!: () => void;
          let answer: (() => void) | undefined;
          let released = false;
          const promise = new Promise<void>((resolve) => {
            arrived = resolve;
          });
          holds.push((respond) => {
            answer = respond;
            arrived();
            if (released) respond();
          });
          return {
            arrived: promise,
            release: () => {
              released = true;
              answer?.();
            },
          };
        },
      };
      routes.set(path, route);
    }
    return route;
  };

  // The purge stream stand-in.
  const log: PurgeEvent[] = [];
  const streams = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  let total = 0;
  let forgotten = 0;
  const since: (string | null)[] = [];
  const requests: SseStandIn['requests'] = [];
  const notify = (): void => {
    for (const check of [...waiters]) check();
  };
  const frame = (e: PurgeEvent): string =>
    `id: ${e.id}\n${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`;
  const sse: SseStandIn = {
    get open() {
      return streams.size;
    },
    get total() {
      return total;
    },
    since,
    requests,
    publish(event) {
      const full = { ...event, id: String(log.length + 1) };
      log.push(full);
      for (const res of streams) res.write(frame(full));
      return full.id;
    },
    dropAll() {
      for (const res of streams) res.destroy();
    },
    forgetUpTo(id) {
      forgotten = Number(id);
    },
    waitFor(predicate) {
      return new Promise((resolve) => {
        const check = (): void => {
          if (!predicate(sse)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      });
    },
  };
  const events = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const from = url.searchParams.get('since');
    since.push(from);
    requests.push({
      authorization: req.headers.authorization ?? null,
      lastEventId: (req.headers['last-event-id'] as string | undefined) ?? null,
    });
    total++;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': stand-in for the @strata/server purge stream\nretry: 200\n\n');
    if (from !== null && Number(from) < forgotten) {
      // Too far behind the retained log: everything tagged must go (docs/architecture.md#failure-behaviour).
      res.write(frame({ id: String(log.length), event: 'reset', data: {} }));
    } else {
      for (const e of log.slice(from === null ? log.length : Number(from))) res.write(frame(e));
    }
    streams.add(res);
    notify();
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), 15_000);
    req.socket.on('close', () => {
      clearInterval(heartbeat);
      streams.delete(res);
      notify();
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (path === '/sw.js' || path === '/client.js') {
      const body = path === '/sw.js' ? test.sw : test.client;
      return void res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-cache' }).end(body);
    }
    if (path === '/strata/events') return options.events ? options.events(req, res) : events(req, res, url);
    if (path.startsWith('/app/')) {
      // Pages of a single-page app: every one is the same shell, cached as the manifest says.
      const headers = headersForRequest(manifest, path, req.method)?.headers ?? {};
      return void res
        .writeHead(200, { ...headers, 'content-type': 'text/html' })
        .end(`<!doctype html><title>shell</title><p id="shell">app shell served for ${path}</p>`);
    }
    if (!path.startsWith('/api/')) return void res.writeHead(404).end();
    const route = api(path);
    route.hits++;
    const respond = async (): Promise<void> => {
      if (route.failWith !== undefined) {
        return void res.writeHead(route.failWith, { 'content-type': 'text/plain' }).end('origin failure');
      }
      // The user: a `user=` cookie, a bearer token `<user>.<secret>`, or an API key `<user>.<secret>`.
      const bearer = /^Bearer ([^.\s]+)\./.exec(req.headers.authorization ?? '')?.[1];
      const key = /^([^.\s]+)\./.exec(String(req.headers['x-api-key'] ?? ''))?.[1];
      const user = /(?:^|;\s*)user=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? bearer ?? key ?? null;
      const body = {
        path,
        query: url.search,
        method: req.method,
        version: route.version,
        hit: route.hits,
        lang: req.headers['accept-language'] ?? null,
        user,
        pad: path.startsWith('/api/big/') ? 'x'.repeat(256 * 1024) : undefined,
      };
      // The headers the manifest gives this route, as @strata/server would emit them.
      const derived = headersForRequest(manifest, path, req.method);
      const headers = { ...derived?.headers };
      // As @strata/server does: a private answer names its partition, hashed.
      if (derived?.match.policy.scope === 'private' && user !== null) {
        headers[PARTITION_HEADER] = await partitionHash(user);
      }
      res.writeHead(200, {
        ...headers,
        'content-type': 'application/json',
        'cache-status': 'origin; fwd=uri-miss',
        ...route.headers,
      });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
    };
    const hold = route.holds.shift();
    const answer = (): void => void respond();
    if (hold) hold(answer);
    else answer();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const test: TestServer = {
    url: `${origin}/`,
    origin,
    sw: '',
    client: '',
    api,
    sse,
    async close() {
      sse.dropAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return test;
}
