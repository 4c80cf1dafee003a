import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPackages } from '../../../../test/build-lock.js';

export const repo = fileURLToPath(new URL('../../../..', import.meta.url));
const policy = join(repo, 'packages/policy');

const PROJECTS = ['packages/policy', 'packages/sw', 'packages/sw/tsconfig.node.json', 'packages/client'];
/** Builds the browser-side packages for the tests that read dist (see test/build-lock.ts). */
export const buildPackagesForPolicy = (): Promise<void> => buildPackages(...PROJECTS);

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
