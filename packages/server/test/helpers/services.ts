import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** A port the OS just handed out as free. Another process may take it first: callers retry. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Keeps the last 4,000 characters a child printed, for the error message when it fails to start. */
export function recentOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A service process a helper spawned: its recent output, and a check that it still runs. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  /** The last 4,000 characters it printed. */
  output(): string;
  /** Throws when it could not be spawned (with `hint`, e.g. how to install it) or has exited, with its output. */
  assertRunning(name: string, hint?: string): void;
}

// A worker that dies without running afterAll must not leave services behind.
const running = new Map<ChildProcess, NodeJS.Signals>();
process.once('exit', () => {
  for (const [child, signal] of running) child.kill(signal);
});

/**
 * Spawns `bin`, keeping what it prints. Until it exits it is killed with `exitSignal` if the
 * worker exits first (SIGTERM for a process that must stop its own children).
 */
export function spawnService(
  bin: string,
  args: readonly string[],
  exitSignal: NodeJS.Signals = 'SIGKILL',
): ServiceProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = recentOutput(child);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  running.set(child, exitSignal);
  child.once('exit', () => running.delete(child));
  return {
    child,
    output,
    assertRunning(name, hint) {
      if (spawnError) throw new Error(`cannot run ${bin}${hint ? ` (${hint})` : ''}: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
      }
    },
  };
}

/**
 * Writes `request` to a loopback port over a raw socket and hands everything received so far to
 * `read`, which returns `{ value }` when it has its answer, undefined to wait for more. Resolves
 * that value, or undefined on a timeout (500 ms) or a refused connection. No client library, so
 * no reconnection noise while a server is starting.
 */
export function rawExchange<T>(
  port: number,
  request: string,
  read: (data: string) => { value: T | undefined } | undefined,
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = '';
    const done = (value: T | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(500, () => done(undefined));
    socket.once('error', () => done(undefined));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const answer = read(data);
      if (answer) done(answer.value);
    });
    socket.once('connect', () => socket.write(request));
  });
}
