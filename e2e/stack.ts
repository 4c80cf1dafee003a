import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type RedisServer, startRedisServer } from '../packages/server/test/helpers/redis-server.js';
import { freePort, recentOutput } from '../packages/server/test/helpers/services.js';
import { startVarnish, type VarnishServer } from '../packages/server/test/helpers/varnish.js';

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

export interface Instance {
  readonly name: string;
  /** `http://127.0.0.1:<port>`, the instance itself (no CDN in between). */
  readonly url: string;
  /** The last lines it printed. */
  output(): string;
}

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

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = fileURLToPath(new URL('../demo/server/main.ts', import.meta.url));
const VCL = fileURLToPath(new URL('../demo/varnish/demo.vcl', import.meta.url));
const POSTGRES = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database on the PostgreSQL server `DATABASE_URL` names, dropped by the returned function. */
async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `strata_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `the end-to-end suite needs PostgreSQL at ${POSTGRES} (set DATABASE_URL; .ci/run starts it): ${(error as Error).message}`,
    );
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Starts `demo/server/main.ts` and resolves once it prints the URL it listens on. */
async function startInstance(name: string, env: Record<string, string>): Promise<Instance & { child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=strata-source', MAIN], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', ...env, DEMO_INSTANCE: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = recentOutput(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo instance ${name} did not start:\n${output()}`)), 60_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`demo instance ${name} exited (${code ?? signal}):\n${output()}`));
    });
    child.stdout?.on('data', () => {
      const listening = /listening on http:\/\/localhost:(\d+)/.exec(output());
      if (!listening?.[1]) return;
      clearTimeout(timer);
      resolve(Number(listening[1]));
    });
  });
  return { name, url: `http://127.0.0.1:${port}`, output, child };
}

async function stopInstance(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
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
      STRATA_ADMIN_TOKEN: adminToken,
      DEMO_DELAY_MS: String(options.delayMs ?? 50),
      DEMO_USERS: String(options.users ?? 1_000),
      DEMO_SECRET: 'strata-e2e',
      // One name for the app, as behind a load balancer: instances share server cache keys.
      DEMO_ORIGIN: 'http://strata-demo.test',
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    };
    const instances: (Instance & { child: ChildProcess })[] = [];
    cleanups.push(async () => {
      await Promise.all(instances.map((instance) => stopInstance(instance.child)));
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
      instances.push(await startInstance(name, { ...env, PORT: String(i === 0 ? firstPort : 0) }));
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
