import type { Server } from 'node:http';
import fastifyStatic from '@fastify/static';
import { serve } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Strata } from '@strata/server';
import { strataExpress } from '@strata/server/express';
import { strataFastify } from '@strata/server/fastify';
import { strataHono } from '@strata/server/hono';
import { toRequest, writeResponse } from '@strata/server/node';
import express from 'express';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { Hono } from 'hono';

// The README's recipes, as written there (the README shows each function's body). Each app has
// the cached route /api/items, the purge stream at /strata/events, the admin API under
// /api/v1/cache, /metrics, and static files from `dir` under /static.

export interface RecipeApp {
  /** Listening on 127.0.0.1, on a port of its own. */
  server: Server;
  close(): Promise<void>;
}

type Endpoint = (request: Request) => Promise<Response>;
const items = [{ id: 1, name: 'Ada' }];

export async function expressRecipe(strata: Strata, dir: string): Promise<RecipeApp> {
  const app = express();

  // Strata's own endpoints take a Web Request. Mount them before strataExpress, and keep them out
  // of the manifest: they are never cached. `response: res` aborts request.signal when the client
  // leaves, which is how the purge stream notices a disconnect.
  const web =
    (endpoint: Endpoint): express.RequestHandler =>
    (req, res, next) => {
      endpoint(toRequest(req, { url: req.originalUrl, response: res }))
        .then((response) => writeResponse(res, response))
        .catch(next);
    };
  app.get(
    '/strata/events',
    web((request) => strata.events(request)),
  );
  app.use(
    '/api/v1/cache',
    web((request) => strata.admin(request)),
  );
  app.get(
    '/metrics',
    web((request) => strata.metrics(request)),
  );

  app.use(strataExpress(strata)); // before the routes it caches
  app.get('/api/items', (_req, res) => {
    res.json(items);
  });
  // express.static and res.sendFile set `Cache-Control: public, max-age=0` unless told not to,
  // and a handler's Cache-Control wins over the manifest (respectHandlerCacheControl).
  app.use('/static', express.static(dir, { cacheControl: false }));

  const server = app.listen(0, '127.0.0.1');
  return { server, close: () => closeServer(server) };
}

export async function fastifyRecipe(strata: Strata, dir: string): Promise<RecipeApp> {
  const app = Fastify();
  await app.register(strataFastify, { strata }); // its hooks apply to the whole app: register it first

  // Strata's own endpoints read the raw request, body included: give them a context that leaves
  // bodies unparsed. Keep them out of the manifest: Strata passes them through untouched.
  await app.register(async (endpoints) => {
    endpoints.removeAllContentTypeParsers();
    endpoints.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const web = (endpoint: Endpoint) => (request: FastifyRequest, reply: FastifyReply) =>
      endpoint(toRequest(request.raw, { url: request.url, response: reply.raw }));
    endpoints.get(
      '/strata/events',
      web((request) => strata.events(request)),
    );
    endpoints.all(
      '/api/v1/cache/*',
      web((request) => strata.admin(request)),
    );
    endpoints.get(
      '/metrics',
      web((request) => strata.metrics(request)),
    );
  });

  app.get('/api/items', async () => items);
  // @fastify/static sets `Cache-Control: public, max-age=0` unless told not to, and a handler's
  // Cache-Control wins over the manifest (respectHandlerCacheControl).
  await app.register(fastifyStatic, { root: dir, prefix: '/static/', cacheControl: false });

  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    server: app.server,
    // Like closeServer below: a client may hold a connection that never sent a request (an
    // EventSource abandoning its reconnect leaves one), which Node counts as active until
    // headersTimeout, so app.close() alone would wait that long.
    close: async () => {
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    },
  };
}

export async function honoRecipe(strata: Strata, dir: string): Promise<RecipeApp> {
  const app = new Hono();

  // Strata's own endpoints, before the middleware and outside the manifest.
  app.get('/strata/events', (c) => strata.events(c.req.raw));
  app.all('/api/v1/cache/*', (c) => strata.admin(c.req.raw));
  app.get('/metrics', (c) => strata.metrics(c.req.raw));

  app.use('*', strataHono(strata));
  app.get('/api/items', (c) => c.json(items));
  // serveStatic sets no Cache-Control: the manifest decides.
  app.use('/static/*', serveStatic({ root: dir, rewriteRequestPath: (path) => path.replace(/^\/static/, '') }));

  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false }) as Server;
  return { server, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
