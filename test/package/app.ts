import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { underBuildLock } from '../build-lock.js';
import userDependencies from './user-dependencies.json' with { type: 'json' };

/** The repository root. */
export const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The published packages, in dependency order. */
export const PACKAGES = ['policy', 'sw', 'client', 'server', 'proxy'] as const;
export type PackageName = (typeof PACKAGES)[number];

/** What a user of the full stack installs beside the tarballs (the pre-flight reads the list too). */
export const USER_DEPENDENCIES: readonly string[] = userDependencies;

const NPM_INSTALL = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Whether `path` lies inside `dir` (or is it). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * The environment of a user's shell: no `npm run` variables pointing into the repository, no
 * `node_modules/.bin` of the repository on PATH, no Vitest or NODE_ENV settings. The npm cache
 * and registry settings stay.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (
      lower.startsWith('npm_') &&
      !['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig'].includes(lower)
    )
      continue;
    if (key.startsWith('VITEST') || ['NODE_ENV', 'NODE_PATH', 'NODE_OPTIONS', 'INIT_CWD', 'TEST'].includes(key))
      continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !isInside(repo, dir))
    .join(delimiter);
  return { ...env, ...extra };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; never throws for a non-zero exit (the caller asserts on `code`). */
export function run(command: string, args: readonly string[], cwd: string, env = userEnv()): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** `result`, or an error with its output when the command exited non-zero. */
export function succeeded(result: Ran, what: string): Ran {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Like `run`, but a non-zero exit rejects with the command's output. */
export async function must(command: string, args: readonly string[], cwd: string, env = userEnv()): Promise<Ran> {
  return succeeded(await run(command, args, cwd, env), `${command} ${args.join(' ')} (in ${cwd})`);
}

/** Builds the packages (`tsc -b`, incremental) and `npm pack`s them into `dir`; returns each tarball. */
export async function pack(dir: string): Promise<Record<PackageName, string>> {
  const { stdout } = await underBuildLock(async () => {
    await must('npx', ['tsc', '-b'], repo, process.env);
    return must(
      'npm',
      ['pack', '--json', '--pack-destination', dir, ...PACKAGES.map((name) => `./packages/${name}`)],
      repo,
      process.env,
    );
  });
  const packed = JSON.parse(stdout) as { name: string; filename: string }[];
  const tarballs: Partial<Record<PackageName, string>> = {};
  for (const { name, filename } of packed) tarballs[name.replace('@strata/', '') as PackageName] = join(dir, filename);
  return tarballs as Record<PackageName, string>;
}

/** A fresh ESM app in `dir` (`npm init -y`, `type: module`) with `specs` installed (npm cache first), and the fixtures. */
export async function createApp(dir: string, specs: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await must('npm', ['init', '-y'], dir);
  await must('npm', ['pkg', 'set', 'type=module'], dir);
  await must('npm', [...NPM_INSTALL, ...specs], dir);
  await cp(fixtures, dir, { recursive: true });
}

/** The `resolved` field of each installed package in the app's lockfile. */
export async function lockedSources(dir: string): Promise<Record<string, string | undefined>> {
  const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { resolved?: string }>;
  };
  return Object.fromEntries(Object.entries(lock.packages).map(([path, entry]) => [path, entry.resolved]));
}

export interface DiskUsage {
  /** Sum of the files' sizes. */
  bytes: number;
  /** Blocks allocated on disk, in bytes (what `du` reports). */
  disk: number;
  files: number;
}

/** The size of a directory tree; symbolic links are counted as links, not followed. Bounded by the tree. */
export async function diskUsage(dir: string): Promise<DiskUsage> {
  const total: DiskUsage = { bytes: 0, disk: 0, files: 0 };
  const seen = new Set<string>(); // hard links count once, as `du` counts them
  const walk = async (path: string): Promise<void> => {
    const stat = await lstat(path);
    const inode = `${stat.dev}:${stat.ino}`;
    if (seen.has(inode)) return;
    seen.add(inode);
    total.disk += stat.blocks * 512;
    if (stat.isDirectory()) {
      for (const name of await readdir(path)) await walk(join(path, name));
      return;
    }
    total.bytes += stat.size;
    total.files++;
  };
  await walk(dir);
  return total;
}

export const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

export interface AppServer {
  url: string;
  child: ChildProcess;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `node server.js` in the app; resolves once it printed the loopback port it listens on. */
export function startServer(dir: string, env: Record<string, string>): Promise<AppServer> {
  const child = spawn(process.execPath, ['server.js'], { cwd: dir, env: userEnv(env), stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const { port } = JSON.parse(line) as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, child, stderr: () => stderr, stop });
    });
    child.once('exit', (code) => reject(new Error(`server.js exited ${code} before listening:\n${stdout}${stderr}`)));
  });
}
