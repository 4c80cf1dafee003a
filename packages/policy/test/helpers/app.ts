import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const policy = join(repo, 'packages/policy');

const PROJECTS = ['packages/policy', 'packages/sw', 'packages/sw/tsconfig.node.json', 'packages/client'];
const LOCK = join(repo, 'node_modules/.cache/strata-policy-test-build.lock');
// A lock left by a killed run is broken after this long (a full build takes seconds).
const STALE_LOCK_MS = 120_000;

/**
 * Builds the browser-side packages (`tsc -b`, a no-op when dist is current) for the tests that
 * read dist. Test files run in parallel, and two `tsc -b` writing the same dist at once leave
 * half-written files, so the build runs under a lock: a directory, created atomically.
 */
export function buildPackages(): void {
  mkdirSync(dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmdirSync(LOCK);
      } catch {
        // Released meanwhile: try again.
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    execFileSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-b', ...PROJECTS], { cwd: repo });
  } finally {
    rmdirSync(LOCK);
  }
}

export interface App {
  dir: string;
  /** Runs `node ...args` in the app; never throws. */
  node: (...args: string[]) => { status: number | null; stdout: string; stderr: string };
  remove: () => void;
}

/**
 * An app in a temporary folder outside the repo, with the built @strata/policy copied into its
 * node_modules as npm installs it (files, not a workspace link) and only the optional peers named
 * here linked beside it, so a missing peer is really missing.
 */
export function appWith(peers: readonly ('zod' | 'tsx')[]): App {
  const dir = mkdtempSync(join(tmpdir(), 'strata-policy-app-'));
  const target = join(dir, 'node_modules/@strata/policy');
  mkdirSync(target, { recursive: true });
  for (const part of ['package.json', 'dist', 'bin'])
    cpSync(join(policy, part), join(target, part), { recursive: true });
  for (const peer of peers) symlinkSync(join(repo, 'node_modules', peer), join(dir, 'node_modules', peer), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  return {
    dir,
    node: (...args) => {
      const result = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
