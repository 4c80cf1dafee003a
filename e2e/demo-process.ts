import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { recentOutput } from '../packages/server/test/helpers/services.js';

/**
 * The demo server (`demo/server/main.ts`) as a process of its own, and a PostgreSQL database for
 * it: what the end-to-end stack and the benchmarks start, one way.
 */
export interface DemoProcess {
  readonly name: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** From `spawn()` to the first answered `GET /healthz`, in ms. */
  readonly startMs: number;
  /** The last lines it printed. */
  output(): string;
  /**
   * Runs a full garbage collection in the process and reads its memory (bytes): V8's heap in use,
   * memory outside it (ArrayBuffers: the cached bodies), RSS. Needs `startDemo(…, { gc: true })`.
   */
  collectGarbage(): Promise<{ heapUsed: number; external: number; rss: number }>;
  /** SIGTERM, SIGKILL after 5 s; safe to call twice. */
  stop(): Promise<void>;
}

export interface StartDemoOptions {
  /** Preload a handler that collects garbage on SIGUSR2 (see `collectGarbage`); it changes nothing else. */
  gc?: boolean;
  /** Longest wait for the first answer. Default 60 s. */
  timeoutMs?: number;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * How child processes resolve the workspace packages: on their TypeScript sources (the
 * `strata-source` export condition, the default: no build between an edit and a test run), or
 * with `STRATA_PACKAGES=built` on their build in `dist/`, the JavaScript an installed app runs —
 * what `npm run bench` measures.
 */
export const PACKAGE_CONDITIONS: readonly string[] =
  process.env.STRATA_PACKAGES === 'built' ? [] : ['--conditions=strata-source'];
const MAIN = fileURLToPath(new URL('../demo/server/main.ts', import.meta.url));
const GC_ON_SIGNAL = fileURLToPath(new URL('../bench/fixtures/gc-on-signal.ts', import.meta.url));
/**
 * Settings the demo reads, dropped from the inherited environment: only what the caller passes
 * configures an instance (a REDIS_URL or DEMO_CACHE in the shell must not change it).
 */
const DEMO_SETTINGS = /^(REDIS_|STRATA_|DEMO_|DATABASE_URL$|PORT$|HOST$)/;

// A run that dies without cleaning up must not leave instances behind.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** SIGTERM, SIGKILL after 5 s; resolves once the child has exited (at once if it already has). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** `DATABASE_URL`, or the local server's `test` database. */
export function postgresUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/** Starts the demo as `name` with `env` (PORT 0 unless given) and resolves once it has answered a request. */
export async function startDemo(
  name: string,
  env: Record<string, string>,
  options: StartDemoOptions = {},
): Promise<DemoProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !DEMO_SETTINGS.test(key)));
  const t0 = performance.now();
  // After tsx, which compiles the TypeScript preload.
  const preload = options.gc ? ['--expose-gc', '--import', GC_ON_SIGNAL] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload, ...PACKAGE_CONDITIONS, MAIN], {
    cwd: ROOT,
    env: { ...inherited, HOST: '127.0.0.1', PORT: '0', ...env, DEMO_INSTANCE: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const output = recentOutput(child);
  const stop = async (): Promise<void> => {
    running.delete(child);
    await stopChild(child);
  };
  try {
    const port = await listeningPort(child, name, output, timeoutMs);
    const url = `http://127.0.0.1:${port}`;
    const health = await fetch(`${url}/healthz`);
    await health.arrayBuffer();
    if (!health.ok) throw new Error(`demo instance ${name} answered /healthz with ${health.status}:\n${output()}`);
    const startMs = performance.now() - t0;
    const collectGarbage = () => requestGarbageCollection(child, output, options.gc === true);
    return { name, url, pid: child.pid as number, startMs, output, collectGarbage, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The port the demo prints (`listening on http://localhost:<port>`), or its output when it fails. */
function listeningPort(child: ChildProcess, name: string, output: () => string, timeoutMs: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`demo instance ${name} did not start within ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
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
}

function requestGarbageCollection(
  child: ChildProcess,
  output: () => string,
  enabled: boolean,
): Promise<{ heapUsed: number; external: number; rss: number }> {
  return new Promise((resolve, reject) => {
    if (!enabled) return reject(new Error('collectGarbage() needs startDemo(…, { gc: true })'));
    let buffer = '';
    const timer = setTimeout(() => {
      child.stdout?.off('data', onData);
      reject(new Error(`the demo did not report a garbage collection within 10 s:\n${output()}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = /^GC (\d+) (\d+) (\d+)$/m.exec(buffer);
      if (!line && !/^GC unavailable/m.test(buffer)) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      if (!line) return reject(new Error('the demo cannot collect garbage: --expose-gc missing'));
      resolve({ heapUsed: Number(line[1]), external: Number(line[2]), rss: Number(line[3]) });
    };
    child.stdout?.on('data', onData);
    child.kill('SIGUSR2');
  });
}

/** A fresh database on the PostgreSQL server `DATABASE_URL` names; `drop()` removes it. */
export async function createDatabase(prefix = 'strata_e2e'): Promise<{ url: string; drop(): Promise<void> }> {
  const server = postgresUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    try {
      await client.connect();
      await client.query(sql);
    } finally {
      await client.end().catch(() => {});
    }
  };
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch (error) {
    throw new Error(
      `the demo needs PostgreSQL at ${server} (set DATABASE_URL; .ci/run starts it): ${(error as Error).message}`,
    );
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
