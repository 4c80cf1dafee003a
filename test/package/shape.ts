import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** Every file path an `exports` value names, under every condition. */
export function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.values(exports).flatMap(exportTargets);
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else found.push(path);
  }
  return found;
}

/**
 * What an installed package names but does not hold: targets of its `exports` (under any
 * condition) and `bin`, and the sources its source maps point at.
 */
export async function missingFiles(dir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
    exports?: unknown;
    bin?: string | Record<string, string>;
  };
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  const missing = [...exportTargets(manifest.exports), ...bins]
    .filter((target) => !existsSync(join(dir, target)))
    .map((target) => `${target} (package.json)`);
  for (const map of (await filesUnder(dir)).filter((file) => file.endsWith('.map'))) {
    const { sources = [], sourceRoot = '' } = JSON.parse(await readFile(map, 'utf8')) as {
      sources?: string[];
      sourceRoot?: string;
    };
    for (const source of sources) {
      const path = resolve(dirname(map), sourceRoot, source);
      if (!existsSync(path)) missing.push(`${path.slice(dir.length + 1)} (${map.slice(dir.length + 1)})`);
    }
  }
  return missing;
}
