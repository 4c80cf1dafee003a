import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { nodeListener } from '@strata/server/node';
import { createDemo } from './app.js';
import { demoConfig } from './config.js';

/**
 * `npm start`: the demo on one port, with the embedded defaults (memory store, memory bus,
 * PGlite) unless REDIS_URL / DATABASE_URL say otherwise.
 */
async function main(): Promise<void> {
  const config = demoConfig();
  const demo = await createDemo(config);
  // Strata's node adapter serves the Hono app: fresh hits are written straight from the store,
  // and stale-while-revalidate refreshes run after the answer is out.
  const server = createServer(
    config.cache
      ? nodeListener(demo.strata, demo.origin, config.origin ? { origin: config.origin } : {})
      : // DEMO_CACHE=off: the bare Hono app on @hono/node-server, Strata out of the request path.
        getRequestListener(demo.origin),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await demo.strata.warm.start();

  const url = `http://localhost:${port}`;
  const store = config.redisUrl ? `Redis at ${new URL(config.redisUrl).host}` : 'in-memory store and bus';
  const database = config.databaseUrl ? 'PostgreSQL' : 'embedded PGlite';
  if (!config.cache) console.log('DEMO_CACHE=off: serving without Strata (no cache headers, no caches)');
  console.log(
    `Strata demo "${config.instance}" listening on ${url} (${store}, ${database}, ${config.delayMs} ms per query)`,
  );
  console.log(`  app:       ${url}/users`);
  console.log(`  dashboard: ${url}/admin`);
  console.log(
    `  admin token: ${config.adminToken}${config.adminTokenGenerated ? ' (generated: set STRATA_ADMIN_TOKEN to choose one)' : ''}`,
  );
  if (config.varnishUrl) console.log(`  CDN purges: ${config.varnishUrl}`);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    server.closeAllConnections();
    server.close();
    // Closing waits for the store and the bus; a Redis that went away must not hold the exit.
    setTimeout(() => {
      console.error('closing took over 3 s: exiting anyway');
      process.exit(1);
    }, 3_000).unref();
    demo.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
