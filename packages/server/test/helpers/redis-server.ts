import type { ChildProcess } from 'node:child_process';
import { exited, freePort, rawExchange, spawnService } from './services.js';

/** A `redis-server` this test file started itself, on a loopback port of its own. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL, as a crash would: resolves once the process has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted) and waits until it answers. */
  restart(): Promise<void>;
  /** SIGSTOP: the process stops answering, connections stay open (a stalled server). */
  pause(): void;
  /** SIGCONT after `pause()`: it answers what waited. */
  resume(): void;
  /** Kills it for good; safe to call twice. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** Longest wait for the server to answer PING. Default 10 s. */
  readyTimeoutMs?: number;
}

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const POLL_MS = 10;

/**
 * PING, then `INFO server`, over a raw socket: the server answers PONG and tells its process id,
 * so a test never mistakes somebody else's Redis on a recycled port for its own.
 */
function probe(port: number): Promise<number | undefined> {
  return rawExchange(port, 'PING\r\nINFO server\r\n', (data) => {
    if (!data.startsWith('+PONG\r\n')) {
      // LOADING, NOAUTH…: not ready, or not ours
      return data.length >= 7 ? { value: undefined } : undefined;
    }
    const bulk = /^\+PONG\r\n\$(\d+)\r\n/.exec(data);
    if (!bulk?.[1]) return undefined;
    const body = data.slice(bulk[0].length);
    if (body.length < Number(bulk[1])) return undefined;
    const pid = /process_id:(\d+)/.exec(body)?.[1];
    return { value: pid === undefined ? undefined : Number(pid) };
  });
}

/** Spawns redis-server on `port` and waits until that very process answers, or fails with its output. */
async function launch(port: number, deadlineMs: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const service = spawnService(REDIS_BIN, args);
  const { child } = service;
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    service.assertRunning(`redis-server on port ${port}`);
    // Compared only once it answered: a child that never spawned has no pid either.
    const pid = await probe(port);
    if (pid !== undefined && pid === child.pid) return child;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  child.kill('SIGKILL');
  await exited(child);
  throw new Error(`redis-server on port ${port} did not answer PING within ${deadlineMs} ms:\n${service.output()}`);
}

/**
 * Starts a private redis-server on a free loopback port, without persistence. The caller stops
 * it; `useRedisServer()` does so in `afterAll`.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  // The free port can be taken between the probe and redis's bind: try a few.
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, readyTimeoutMs);
    } catch (error) {
      lastError = error;
    }
  }
  if (!child) throw lastError;
  let stopped = false;

  const kill = async () => {
    const current = child;
    if (!current) return;
    child = undefined;
    current.kill('SIGKILL');
    await exited(current);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    async restart() {
      if (stopped) throw new Error('redis-server was stopped');
      await kill();
      child = await launch(port, readyTimeoutMs);
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      stopped = true;
      await kill();
    },
  };
}
