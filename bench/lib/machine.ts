/**
 * The facts RESULTS.md opens with: the hardware, the OS, and the versions of every real part the
 * benchmarks run against. A tool that is missing or does not answer is reported, never fatal.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import pg from 'pg';
import { chromiumOptions } from '../../packages/sw/test/browser/helpers/browser.js';

const TIMEOUT_MS = 5_000;

/** What the benchmarks read the PostgreSQL server from (as in query-cache and the e2e stack). */
export const databaseUrl = (): string => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The first non-empty line `file args…` prints (stdout, else stderr), or `not installed`. */
function firstLine(file: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      const line = `${stdout}\n${stderr}`
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '');
      if (line) return resolve(line);
      const code = (error as NodeJS.ErrnoException | null)?.code;
      resolve(code === 'ENOENT' ? 'not installed' : `no answer (${error?.message.split('\n')[0] ?? 'empty output'})`);
    });
  });
}

async function osName(): Promise<string> {
  const release = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
  return `${pretty ?? os.type()} (kernel ${os.release()}, ${process.platform} ${process.arch})`;
}

async function postgresVersion(): Promise<string> {
  const url = databaseUrl();
  const where = new URL(url).host;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ version: string }>('SELECT version()');
    return `${rows[0]?.version.split(' on ')[0] ?? 'unknown'} at ${where}`;
  } catch (error) {
    return `not reachable at ${where} (${(error as Error).message.split('\n')[0]})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** One `- Name: value` line per fact, in a stable order. */
export async function machineFacts(): Promise<string[]> {
  const cpus = os.cpus();
  const [system, chromium, redis, varnish, postgres] = await Promise.all([
    osName(),
    firstLine(chromiumOptions.executablePath, ['--version']),
    firstLine(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--version']),
    firstLine('varnishd', ['-V']),
    postgresVersion(),
  ]);
  const load = os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
  return [
    `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores; load average (1/5/15 min) ${load} when this file was written`,
    `- RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${system}`,
    `- Node: ${process.version}`,
    `- Chromium: ${chromium}`,
    `- Redis: ${redis}`,
    `- Varnish: ${varnish}`,
    `- PostgreSQL: ${postgres}`,
  ];
}
