import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const recorder = fileURLToPath(new URL('./fixtures/record-loads.mjs', import.meta.url));

/**
 * Runs `script` as an ES module in a fresh `node` (no custom condition) from `cwd`, and returns
 * every module it loaded: the URLs a resolve hook saw, then the CommonJS paths in require.cache.
 */
export function modulesLoaded(script: string, cwd: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'strata-loads-'));
  const file = join(dir, 'loads.txt');
  try {
    execFileSync(process.execPath, ['--import', recorder, '--input-type=module', '-e', script], {
      cwd,
      env: { ...process.env, RECORD_LOADS_FILE: file, NODE_OPTIONS: '' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
