import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PACKAGE_CONDITIONS } from '../../e2e/demo-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Child {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript fixture in its own Node process (through tsx, the packages resolved as
 * `PACKAGE_CONDITIONS` says: their build under `npm run bench`) and waits for the
 * `READY <port>` line it prints. The benchmark's load generator then has a core of its own.
 */
export async function startFixture(file: string, args: string[], timeoutMs = 20_000): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...PACKAGE_CONDITIONS, file, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const ready = /READY (\d+)/.exec(buffer);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready`));
    });
  });
  return {
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
      }),
  };
}
