import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DEFAULT_CREDENTIAL_HEADERS, type Manifest, StrataError } from '@strata/policy';
import type { Precache } from '@strata/policy/protocol';
import { parseManifest } from '@strata/policy/validate';
import { build, type Plugin, type Rolldown, runnerImport } from 'vite';

/** `installStrata` options a built-in entry can take: the JSON-serializable ones. */
export interface EntryOptions {
  maxEntries?: number;
  cachePrefix?: string;
  skipWaiting?: boolean;
  clientsClaim?: boolean;
  cleanupInterval?: number;
  navigationFallback?: string;
}

export interface BuildServiceWorkerOptions {
  /** The manifest module (`.ts`, `.js`, `.json`; exported as `default` or `manifest`), or the manifest itself. */
  manifest: string | Manifest;
  /**
   * Your own worker entry. It can `import manifest from 'virtual:strata/manifest'` (the validated,
   * inlined manifest) and call `installStrata` with options of its own. Default: an entry calling
   * `installStrata(manifest, options)`.
   */
  sw?: string;
  /** Options for the default entry. */
  options?: EntryOptions;
  /** Where to write the bundle; nothing is written without it. */
  outFile?: string;
  /** Resolves relative paths and bare imports. Default `process.cwd()`. */
  root?: string;
  /** `production` (default) strips dev-only code; `development` keeps Strata's logs. */
  mode?: 'production' | 'development';
  /**
   * Files for the worker to precache (see `precacheOf`): the default entry then calls
   * `installPrecache` before `installStrata`; an entry of your own imports them from
   * `virtual:strata/precache`. Default: none, and no precache code in the worker.
   */
  precache?: Precache;
}

export interface ServiceWorkerBuild {
  code: string;
  bytes: number;
  gzipBytes: number;
  /** The validated manifest that was inlined. */
  manifest: Manifest;
  /** Files the bundle was built from (to watch them). */
  files: string[];
}

export const MANIFEST_MODULE = 'virtual:strata/manifest';
export const PRECACHE_MODULE = 'virtual:strata/precache';
const ENTRY_MODULE = 'virtual:strata/sw-entry';

// Running from source (this monorepo: tests, the demo) the workspace packages must resolve to their
// TypeScript sources; running from dist/ (published) they resolve to their builds.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const CONDITIONS = [...(FROM_SOURCE ? ['strata-source'] : []), 'browser', 'module', 'import', 'default'];
const RUNTIME = fileURLToPath(new URL(FROM_SOURCE ? './index.ts' : './index.js', import.meta.url));

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Loads and validates a manifest module. Throws ManifestError (every issue) or E_MANIFEST_LOAD. */
export async function loadManifest(file: string, root = process.cwd()): Promise<Manifest> {
  const path = isAbsolute(file) ? file : resolve(root, file);
  let value: unknown;
  try {
    if (extname(path) === '.json') value = JSON.parse(await readFile(path, 'utf8'));
    else {
      const { module } = await runnerImport<Record<string, unknown>>(path, {
        configFile: false,
        root,
        logLevel: 'silent',
        resolve: { conditions: CONDITIONS },
        ssr: { resolve: { conditions: CONDITIONS, externalConditions: CONDITIONS } },
      });
      value = module.manifest ?? module.default;
    }
  } catch (error) {
    throw new StrataError('E_MANIFEST_LOAD', `cannot load manifest '${file}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isRecord(value)) {
    throw new StrataError('E_MANIFEST_LOAD', `'${file}' exports no manifest: export it as default or as 'manifest'`);
  }
  return parseManifest(value);
}

/**
 * The manifest as the default entry inlines it: what `installStrata` reads. Of the `defaults`, the
 * worker reads `credentialHeaders` (which request headers are credentials); `maxUnpurgeableAge`,
 * `negativeTtl`, the policies' `cdnTtl`, `serverTtl` and `immutable`, and the levels but `browser`
 * shape the headers of the other levels, which the worker never writes. An entry of your own gets
 * the whole manifest from `virtual:strata/manifest`.
 */
function browserManifest(manifest: Manifest): Pick<Manifest, 'version' | 'routes'> & {
  defaults?: Pick<Manifest['defaults'], 'credentialHeaders'>;
} {
  const routes = manifest.routes.map(({ policy: { cdnTtl, serverTtl, immutable, ...policy }, ...route }) => ({
    ...route,
    // The worker asks of a policy only whether it stores at the browser level.
    policy: { ...policy, levels: policy.levels.filter((level) => level === 'browser') },
  }));
  // The worker adds Authorization and Cookie to the manifest's credential headers itself.
  const credentialHeaders = manifest.defaults.credentialHeaders.filter(
    (name) => !DEFAULT_CREDENTIAL_HEADERS.includes(name),
  );
  return {
    version: manifest.version,
    ...(credentialHeaders.length > 0 && { defaults: { credentialHeaders } }),
    routes,
  };
}

function virtualModules(manifest: Manifest, options: EntryOptions, precache: Precache | undefined): Plugin {
  const precaches = precache !== undefined && precache.entries.length > 0;
  const ids: Record<string, string> = {
    [MANIFEST_MODULE]: `export default ${JSON.stringify(manifest)};`,
    [PRECACHE_MODULE]: `export default ${JSON.stringify(precache ?? { id: '', entries: [] })};`,
    [ENTRY_MODULE]: [
      `import { installPrecache, installStrata } from ${JSON.stringify(RUNTIME)};`,
      // Before installStrata: the precache's fetch listener answers first.
      ...(precaches
        ? [
            `import precache from ${JSON.stringify(PRECACHE_MODULE)};`,
            `installPrecache(precache, ${JSON.stringify({ cachePrefix: options.cachePrefix })});`,
          ]
        : []),
      `installStrata(${JSON.stringify(browserManifest(manifest))}, ${JSON.stringify(options)});`,
    ].join('\n'),
  };
  return {
    name: 'strata:sw-virtual',
    // Library mode resolves its entry against the root, so the entry id arrives as a path.
    resolveId: (id) => {
      const bare = id.endsWith(`/${ENTRY_MODULE}`) ? ENTRY_MODULE : id;
      return bare in ids ? `\0${bare}` : undefined;
    },
    load: (id) => (id.startsWith('\0') ? ids[id.slice(1)] : undefined),
  };
}

/**
 * Bundles a service worker with the manifest inlined: one IIFE file (no chunks, so it registers
 * as a classic worker), `process.env.NODE_ENV` defined so Strata's dev code is
 * dropped (docs/environment.md#service-worker-build). The manifest is validated here, in Node, so
 * the schema library never reaches the worker.
 */
export async function buildServiceWorker(options: BuildServiceWorkerOptions): Promise<ServiceWorkerBuild> {
  const root = options.root ?? process.cwd();
  const mode = options.mode ?? 'production';
  const manifest =
    typeof options.manifest === 'string' ? await loadManifest(options.manifest, root) : parseManifest(options.manifest);
  const entry = options.sw ? resolve(root, options.sw) : ENTRY_MODULE;
  const output = await build({
    configFile: false,
    envFile: false,
    root,
    mode,
    logLevel: 'silent',
    publicDir: false,
    plugins: [virtualModules(manifest, options.options ?? {}, options.precache)],
    resolve: { conditions: CONDITIONS },
    define: { 'process.env.NODE_ENV': JSON.stringify(mode) },
    build: {
      write: false,
      minify: mode === 'production',
      target: 'es2022',
      sourcemap: false,
      copyPublicDir: false,
      reportCompressedSize: false,
      lib: { entry, formats: ['iife'], name: 'strataServiceWorker', fileName: () => 'sw.js' },
      // The protocol's names are constants in @strata/policy/protocol: write them in place, as
      // literals, rather than as variables the minifier keeps.
      rolldownOptions: { optimization: { inlineConst: { mode: 'all' } } },
    },
  });
  const outputs = (Array.isArray(output) ? output : [output]) as Rolldown.RolldownOutput[];
  const chunks = outputs.flatMap((o) => o.output).filter((c): c is Rolldown.OutputChunk => c.type === 'chunk');
  const code = chunks.map((c) => c.code).join('\n');
  const files = [...new Set(chunks.flatMap((c) => c.moduleIds))].filter((id) => !id.startsWith('\0'));
  if (typeof options.manifest === 'string') files.push(resolve(root, options.manifest));
  if (options.outFile) {
    await mkdir(dirname(options.outFile), { recursive: true });
    await writeFile(options.outFile, code);
  }
  return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code).length, manifest, files };
}

/** `7.91 kB`, the way Vite prints sizes. */
export function formatSize(bytes: number): string {
  return `${(bytes / 1000).toFixed(2)} kB`;
}
