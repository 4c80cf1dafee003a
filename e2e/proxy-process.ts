import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { recentOutput } from '../packages/server/test/helpers/services.js';
import { stopChild } from './demo-process.js';

/** `strata proxy` as a process of its own, run from the built package as an operator runs it. */
export interface ProxyProcess {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  output(): string;
  /** SIGTERM, SIGKILL after 5 s; safe to call twice. */
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../packages/proxy/bin/strata-proxy.js', import.meta.url));
/** The proxy's own settings, dropped from the inherited environment: only the flags configure it. */
const PROXY_SETTINGS = /^(REDIS_|STRATA_|PORT$|HOST$)/;

/** Starts `strata-proxy <args> --port 0 --host 127.0.0.1` and resolves once it listens. */
export async function startProxy(args: string[], timeoutMs = 60_000): Promise<ProxyProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !PROXY_SETTINGS.test(key)));
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: inherited,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = recentOutput(child);
  const stop = () => stopChild(child);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`strata proxy did not start within ${timeoutMs} ms:\n${output()}`)),
        timeoutMs,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`strata proxy exited (${code ?? signal}):\n${output()}`));
      });
      child.stdout?.on('data', () => {
        const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output());
        if (!listening?.[1]) return;
        clearTimeout(timer);
        resolve(listening[1]);
      });
    });
    return { url, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
