/**
 * The demo server (`demo/server/main.ts`) as a process of its own, for measurements of the
 * process itself: how long it takes to answer its first request, how much memory it holds. The
 * end-to-end stack (e2e/stack.ts) starts the same program; this one hands out the process id and
 * times the start from the spawn.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort, recentOutput } from '../../packages/server/test/helpers/services.js';
import { databaseUrl } from './machine.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../demo/server/main.ts', import.meta.url));
const GC_ON_SIGNAL = fileURLToPath(new URL('../fixtures/gc-on-signal.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface DemoProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** From `spawn()` to the first answered `GET /healthz`, in ms. */
  readonly startMs: number;
  /** The last lines it printed. */
  output(): string;
  /**
   * Runs a full garbage collection in the process and reads its memory (bytes): V8's heap in use,
   * memory outside it (ArrayBuffers: the cached bodies), RSS. Needs `startDemo(env, { gc: true })`.
   */
  collectGarbage(): Promise<{ heapUsed: number; external: number; rss: number }>;
  stop(): Promise<void>;
}

/**
 * Settings of the environment the demo reads; dropped from ours so that only what the caller
 * passes configures it (a DATABASE_URL or REDIS_URL in the shell must not change the store).
 */
const DEMO_SETTINGS = /^(REDIS_|STRATA_|DEMO_|DATABASE_URL$|PORT$|HOST$)/;

/**
 * Spawns the demo with `env` and polls `/healthz` until it answers 200. `gc`: preload a handler
 * that collects garbage on request (see `collectGarbage`); it changes nothing else.
 */
export async function startDemo(env: Record<string, string>, options: { gc?: boolean } = {}): Promise<DemoProcess> {
  const port = await freePort();
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !DEMO_SETTINGS.test(name)));
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  // After tsx, which compiles the TypeScript preload.
  const preload = options.gc ? ['--expose-gc', '--import', GC_ON_SIGNAL] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload, '--conditions=strata-source', MAIN], {
    cwd: ROOT,
    env: { ...base, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = recentOutput(child);
  const stop = () => stopChild(child);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the demo exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
      }
      if (performance.now() - t0 > START_TIMEOUT_MS)
        throw new Error(`the demo did not answer within 60 s:\n${output()}`);
      const answered = await fetch(`${url}/healthz`).then(
        async (response) => {
          await response.arrayBuffer();
          return response.ok;
        },
        () => false,
      );
      if (answered) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const startMs = performance.now() - t0;
  const collectGarbage = () =>
    new Promise<{ heapUsed: number; external: number; rss: number }>((resolve, reject) => {
      if (!options.gc) return reject(new Error('collectGarbage() needs startDemo(env, { gc: true })'));
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
  return { url, pid: child.pid as number, startMs, output, collectGarbage, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a process, in bytes: VmRSS from /proc, else `ps`. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kib = status ? /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] : undefined;
  if (kib) return Number(kib) * 1024;
  const ps = await new Promise<string>((resolve, reject) =>
    execFile('ps', ['-o', 'rss=', '-p', String(pid)], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  return Number(ps.trim()) * 1024;
}

/** A fresh PostgreSQL database on the server `DATABASE_URL` names; `drop()` removes it. */
export async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = databaseUrl();
  const name = `strata_bench_${randomBytes(6).toString('hex')}`;
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
    throw new Error(`this benchmark needs PostgreSQL at ${server} (set DATABASE_URL): ${(error as Error).message}`);
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** `GET <url>/api/v1/cache/stats` with the admin token. */
export async function cacheStats(url: string, token: string): Promise<{ store: { entries?: number; bytes?: number } }> {
  const response = await fetch(`${url}/api/v1/cache/stats`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /api/v1/cache/stats answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { store: { entries?: number; bytes?: number } };
}

/** GETs every path, `concurrency` at a time; each must answer 200. `progress` hears every 5 s how many are done. */
export async function getAll(
  base: string,
  paths: readonly string[],
  concurrency: number,
  progress: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const timer = setInterval(() => progress(done), 5_000);
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < paths.length) {
          const path = paths[next++] as string;
          const response = await fetch(`${base}${path}`);
          const body = await response.text();
          if (response.status !== 200)
            throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 200)}`);
          done++;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
}
