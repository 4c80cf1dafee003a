import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { freePort } from '../packages/server/test/helpers/services.js';
import { startVarnish, type VarnishServer } from '../packages/server/test/helpers/varnish.js';
import { createDatabase, type DemoProcess, startDemo } from './demo-process.js';

/**
 * The whole demo deployment on loopback, started for the end-to-end suite and the benchmarks:
 * a private redis-server, a PostgreSQL database of its own, demo instances sharing both (each a
 * real `demo/server/main.ts` process), and Varnish with xkey in front of the first instance.
 */
export interface Stack {
  readonly redis: RedisServer;
  readonly databaseUrl: string;
  readonly instances: readonly Instance[];
  /** Varnish in front of `instances[0]`, when asked for. */
  readonly varnish: VarnishServer | undefined;
  readonly adminToken: string;
  /** The URL a browser should use for instance `i`: through Varnish for the first, when there is one. */
  entry(i: number): string;
  stop(): Promise<void>;
}

/** One demo instance of the stack. */
export type Instance = DemoProcess;

export interface StackOptions {
  /** Instance names, default `['A', 'B']`. */
  instances?: string[];
  /** Varnish in front of the first instance. Default true. */
  varnish?: boolean;
  /** `DEMO_DELAY_MS` of each instance. Default 50. */
  delayMs?: number;
  /** `DEMO_USERS`. Default 1,000. */
  users?: number;
  /** No Redis: each instance on its in-memory store and bus (and a database of its own). */
  memory?: boolean;
  /** More environment for every instance. */
  env?: Record<string, string>;
}

const VCL = fileURLToPath(new URL('../demo/varnish/demo.vcl', import.meta.url));

/** The environment every instance of a stack shares; the benchmarks start more instances with it. */
export function stackEnv(stack: Pick<Stack, 'adminToken' | 'databaseUrl'>, delayMs = 50): Record<string, string> {
  return {
    STRATA_ADMIN_TOKEN: stack.adminToken,
    DEMO_DELAY_MS: String(delayMs),
    DEMO_USERS: '1000',
    DEMO_SECRET: 'strata-e2e',
    // One name for the app, as behind a load balancer: instances share server cache keys.
    DEMO_ORIGIN: 'http://strata-demo.test',
    ...(stack.databaseUrl ? { DATABASE_URL: stack.databaseUrl } : {}),
  };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const names = options.instances ?? ['A', 'B'];
  const adminToken = randomBytes(12).toString('hex');
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  };
  try {
    const redis = options.memory ? undefined : await startRedisServer();
    if (redis) cleanups.push(() => redis.stop());
    const database = options.memory ? undefined : await createDatabase();
    if (database) cleanups.push(() => database.drop());

    const env: Record<string, string> = {
      ...stackEnv({ adminToken, databaseUrl: database?.url ?? '' }, options.delayMs),
      DEMO_USERS: String(options.users ?? 1_000),
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...options.env,
    };
    const instances: Instance[] = [];
    cleanups.push(async () => {
      await Promise.all(instances.map((instance) => instance.stop()));
    });
    // Varnish only forwards to its backend on demand, so it can start first, on the port the
    // first instance will take; then every instance knows where to send CDN purges.
    let varnish: VarnishServer | undefined;
    let firstPort = 0;
    if (options.varnish ?? true) {
      firstPort = await freePort();
      const template = await readFile(VCL, 'utf8');
      varnish = await startVarnish({
        backendPort: firstPort,
        vcl: (host, port, nonce) =>
          template
            .replaceAll('{{BACKEND_HOST}}', host)
            .replaceAll('{{BACKEND_PORT}}', String(port))
            .replaceAll('{{READY_TOKEN}}', nonce),
      });
      const started = varnish;
      cleanups.push(() => started.stop());
      env.STRATA_VARNISH_URL = varnish.url;
    }
    for (const [i, name] of names.entries()) {
      instances.push(await startDemo(name, { ...env, PORT: String(i === 0 ? firstPort : 0) }));
    }
    return {
      redis: redis as RedisServer,
      databaseUrl: database?.url ?? '',
      instances,
      varnish,
      adminToken,
      entry: (i) => (i === 0 && varnish ? varnish.url : (instances[i]?.url ?? '')),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
