import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { serve } from '@hono/node-server';
import type { Strata } from '@strata/server';
import { strataExpress } from '@strata/server/express';
import { strataFastify } from '@strata/server/fastify';
import { strataHono } from '@strata/server/hono';
import { nodeListener } from '@strata/server/node';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';

/**
 * The same small app written natively for each framework, so one suite can drive every adapter:
 *   GET  /items?case=…  JSON `{ case, version }`; fails (500 or throw) while `origin.failure` says so
 *   GET  /feed?case=…   the same, under a stale-while-revalidate policy
 *   GET  /mine?case=…   the same, under a private policy (partitioned by the test's `partition`)
 *   GET  /binary        BINARY, written in several chunks
 *   GET  /cookies       two Set-Cookie fields
 *   GET  /boom          the handler fails (throw, or Express `next(err)`)
 *   GET  /gone          410, a cacheable status
 *   POST /echo          the request body back (a route outside the manifest)
 * Before Strata, each app sets `x-request-id` for the request, as request-id middleware does.
 */
export class Origin {
  readonly calls = new Map<string, number>();
  failure: 'none' | 'status' | 'throw' = 'none';
  /** Errors the node adapter reported through `onError`. */
  readonly reported: unknown[] = [];
  #requests = 0;

  requestId(): string {
    return String(++this.#requests);
  }

  count(key: string): number {
    return this.calls.get(key) ?? 0;
  }

  call(key: string): number {
    const n = this.count(key) + 1;
    this.calls.set(key, n);
    return n;
  }

  /** One /items or /feed call: the JSON body, or undefined for a 500; throws in 'throw' mode. */
  items(path: string, name: string): { case: string; version: number } | undefined {
    const version = this.call(`${path.slice(1)}:${name}`);
    if (this.failure === 'throw') throw new Error('origin exploded');
    if (this.failure === 'status') return undefined;
    return { case: name, version };
  }
}

/** 200,000 bytes covering every byte value, not valid UTF-8: any text conversion would show. */
export const BINARY = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31 + (i >> 9)) & 0xff);
const CHUNK = 16 * 1024;
const slices = (): Buffer[] => {
  const out: Buffer[] = [];
  for (let i = 0; i < BINARY.byteLength; i += CHUNK) out.push(Buffer.from(BINARY.subarray(i, i + CHUNK)));
  return out;
};
const webStream = (): ReadableStream<Uint8Array> =>
  Readable.toWeb(Readable.from(slices())) as ReadableStream<Uint8Array>;
const COOKIES = ['a=1; Path=/', 'b=2; Path=/; HttpOnly'];

export interface Running {
  base: string;
  close(): Promise<void>;
}

export interface Harness {
  name: 'node' | 'express' | 'fastify' | 'hono';
  start(strata: Strata, origin: Origin): Promise<Running>;
}

async function listening(server: Server): Promise<Running> {
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const node: Harness = {
  name: 'node',
  async start(strata, origin) {
    const handler = async (request: Request): Promise<Response> => {
      const url = new URL(request.url);
      switch (url.pathname) {
        case '/items':
        case '/feed':
        case '/mine': {
          const body = origin.items(url.pathname, url.searchParams.get('case') ?? '');
          return body ? Response.json(body) : new Response('origin down', { status: 500 });
        }
        case '/binary':
          origin.call('binary');
          return new Response(webStream(), { headers: { 'content-type': 'application/octet-stream' } });
        case '/cookies': {
          origin.call('cookies');
          const headers = new Headers({ 'content-type': 'text/plain' });
          for (const cookie of COOKIES) headers.append('set-cookie', cookie);
          return new Response('cookies', { headers });
        }
        case '/boom':
          origin.call('boom');
          throw new Error('boom');
        case '/gone':
          origin.call('gone');
          return new Response('Gone', { status: 410 });
        case '/echo':
          return new Response(await request.text());
        default:
          return new Response('Not Found', { status: 404 });
      }
    };
    const listener = nodeListener(strata, handler, { onError: (error) => origin.reported.push(error) });
    const server = createServer((req, res) => {
      res.setHeader('x-request-id', origin.requestId());
      listener(req, res);
    });
    server.listen(0, '127.0.0.1');
    return listening(server);
  },
};

const expressHarness: Harness = {
  name: 'express',
  async start(strata, origin) {
    const app = express();
    app.use((_req, res, next) => {
      res.setHeader('x-request-id', origin.requestId());
      next();
    });
    app.use(strataExpress(strata));
    app.get(['/items', '/feed', '/mine'], async (req, res) => {
      // A throw here rejects the handler's promise, which Express 5 passes to next(err).
      const body = origin.items(req.path, String(req.query.case ?? ''));
      if (body) res.json(body);
      else res.status(500).send('origin down');
    });
    app.get('/binary', (_req, res) => {
      origin.call('binary');
      res.type('application/octet-stream');
      const parts = slices();
      const last = parts.pop();
      for (const part of parts) res.write(part);
      res.end(last);
    });
    app.get('/cookies', (_req, res) => {
      origin.call('cookies');
      res.cookie('a', '1');
      res.cookie('b', '2', { httpOnly: true });
      res.send('cookies');
    });
    app.get('/boom', (_req, _res, next) => {
      origin.call('boom');
      next(new Error('boom'));
    });
    app.get('/gone', (_req, res) => {
      origin.call('gone');
      res.sendStatus(410);
    });
    app.post('/echo', express.text({ type: '*/*', limit: '2mb' }), (req, res) => {
      res.type('text/plain').send(req.body as string);
    });
    return listening(app.listen(0, '127.0.0.1'));
  },
};

const fastifyHarness: Harness = {
  name: 'fastify',
  async start(strata, origin) {
    const app = Fastify({ logger: false, forceCloseConnections: true });
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('x-request-id', origin.requestId());
    });
    await app.register(strataFastify, { strata });
    for (const path of ['/items', '/feed', '/mine']) {
      app.get<{ Querystring: { case?: string } }>(path, async (request, reply) => {
        const body = origin.items(path, request.query.case ?? '');
        return body ?? reply.code(500).type('text/plain').send('origin down');
      });
    }
    app.get('/binary', async (_request, reply) => {
      origin.call('binary');
      return reply.type('application/octet-stream').send(Readable.from(slices()));
    });
    app.get('/cookies', async (_request, reply) => {
      origin.call('cookies');
      return reply.header('set-cookie', COOKIES).type('text/plain').send('cookies');
    });
    app.get('/boom', async () => {
      origin.call('boom');
      throw new Error('boom');
    });
    app.get('/gone', async (_request, reply) => {
      origin.call('gone');
      return reply.code(410).type('text/plain').send('Gone');
    });
    app.post('/echo', async (request, reply) => reply.type('text/plain').send(request.body as string));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { base: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

const honoHarness: Harness = {
  name: 'hono',
  async start(strata, origin) {
    const app = new Hono();
    app.onError((_error, c) => c.text('Internal Server Error', 500));
    app.use('*', async (c, next) => {
      c.header('x-request-id', origin.requestId());
      await next();
    });
    app.use('*', strataHono(strata));
    app.on('GET', ['/items', '/feed', '/mine'], (c) => {
      const body = origin.items(c.req.path, c.req.query('case') ?? '');
      return body ? c.json(body) : c.text('origin down', 500);
    });
    app.get('/binary', (c) => {
      origin.call('binary');
      return c.body(webStream(), 200, { 'content-type': 'application/octet-stream' });
    });
    app.get('/cookies', (c) => {
      origin.call('cookies');
      for (const cookie of COOKIES) c.header('set-cookie', cookie, { append: true });
      return c.text('cookies');
    });
    app.get('/boom', () => {
      origin.call('boom');
      throw new Error('boom');
    });
    app.get('/gone', (c) => {
      origin.call('gone');
      return c.text('Gone', 410);
    });
    app.post('/echo', async (c) => c.text(await c.req.text()));
    // Keep Node's own Request/Response globals: other suites in this process use them.
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false });
    return listening(server as Server);
  },
};

export const HARNESSES: Harness[] = [node, expressHarness, fastifyHarness, honoHarness];
