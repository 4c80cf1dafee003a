import { execFile } from 'node:child_process';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repo = fileURLToPath(new URL('..', import.meta.url));

/**
 * The lock every test that builds or packs `dist` takes: test files run in parallel, and two
 * `tsc -b` writing the same files at once leave half-written ones that a test (or a pack) would
 * read. A directory, created atomically; one older than two minutes was left by a killed run (a
 * build takes seconds).
 */
const LOCK = join(repo, 'node_modules/.cache/strata-test-build.lock');
const STALE_LOCK_MS = 120_000;

export async function underBuildLock<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(LOCK).then(
        (lock) => Date.now() - lock.mtimeMs,
        () => 0,
      );
      if (since > STALE_LOCK_MS) await rmdir(LOCK).catch(() => undefined);
      await sleep(100);
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(LOCK);
  }
}

/** `tsc -b` of `projects` (every package when none are named) under the lock; a no-op when dist is current. */
export async function buildPackages(...projects: string[]): Promise<void> {
  await underBuildLock(async () => {
    await promisify(execFile)(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-b', ...projects], {
      cwd: repo,
    });
  });
}
