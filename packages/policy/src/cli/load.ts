import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StrataError } from '../errors.js';
import { importPeer } from '../peer.js';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Reads a manifest from a `.json`, `.js`/`.mjs` or `.ts`/`.mts` file. Modules may export it as
 * `default` or as `manifest`. TypeScript is loaded through tsx, an optional peer installed only by
 * those who write their manifest in TypeScript; no build step is needed.
 * Returns the raw value: the caller validates it.
 */
export async function loadManifestFile(file: string): Promise<unknown> {
  const path = resolve(file);
  const ext = extname(path);
  try {
    if (ext === '.json') {
      const text = await readFile(path, 'utf8');
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new StrataError('E_MANIFEST_LOAD', `'${file}' is not valid JSON: ${(error as Error).message}`);
      }
    }
    let mod: Record<string, unknown>;
    if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
      const { tsImport } = await importPeer(
        'tsx',
        () => import('tsx/esm/api'),
        'strata: loading a TypeScript manifest needs tsx: npm install -D tsx',
      );
      mod = await tsImport(pathToFileURL(path).href, import.meta.url);
    } else if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
      mod = await import(pathToFileURL(path).href);
    } else {
      throw new StrataError('E_MANIFEST_LOAD', `cannot load '${file}': expected a .ts, .js or .json file`);
    }
    let value = mod.manifest ?? mod.default;
    // A TypeScript file outside an ESM package is loaded as CommonJS: its exports sit one level down.
    if (isRecord(value) && !('routes' in value)) value = value.manifest ?? value.default ?? value;
    if (value === undefined) {
      throw new StrataError('E_MANIFEST_LOAD', `'${file}' exports no manifest: export it as default or as 'manifest'`);
    }
    return value;
  } catch (error) {
    if (error instanceof StrataError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new StrataError('E_MANIFEST_LOAD', `cannot load '${file}': ${why}`, { cause: error });
  }
}
