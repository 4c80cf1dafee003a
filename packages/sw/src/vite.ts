import { resolve } from 'node:path';
import type { Precache } from '@strata/policy/protocol';
import type { Plugin, ResolvedConfig } from 'vite';
import { buildServiceWorker, type EntryOptions, formatSize, type ServiceWorkerBuild } from './build.js';
import { type PrecacheFiles, precacheOf } from './precache-list.js';

export {
  type BuildServiceWorkerOptions,
  buildServiceWorker,
  type EntryOptions,
  loadManifest,
  MANIFEST_MODULE,
  PRECACHE_MODULE,
  type ServiceWorkerBuild,
} from './build.js';
export { type PrecacheFiles, precacheOf } from './precache-list.js';

export interface StrataPluginOptions {
  /** The manifest module, relative to Vite's root. */
  manifest: string;
  /** Your own worker entry (see `buildServiceWorker`); default: one that calls `installStrata(manifest)`. */
  sw?: string;
  /** Options of the default entry. */
  options?: EntryOptions;
  /** Served and emitted at `base + fileName`. Default `sw.js`. */
  fileName?: string;
  /**
   * Precaching of the build's own files by `vite build` (the worker stores them on install, so a
   * page never visited opens offline): which files, or `false` for none. Default: every `.js`,
   * `.css` and `.html` file of the build. `vite dev` never precaches.
   */
  precache?: PrecacheFiles | false;
}

/**
 * Builds the service worker next to the app: `vite build` emits it as an asset (and prints its
 * gzipped size), `vite dev` serves it from memory, rebuilt when one of its files changes.
 * Register it with `@strata/client` (`registerStrata({ swUrl: '/sw.js', … })`).
 */
export function strata(pluginOptions: StrataPluginOptions): Plugin {
  const fileName = pluginOptions.fileName ?? 'sw.js';
  let config: ResolvedConfig;
  let pending: Promise<ServiceWorkerBuild> | undefined;
  let building = false;

  const buildIt = (mode: 'production' | 'development', precache?: Precache): Promise<ServiceWorkerBuild> =>
    buildServiceWorker({
      manifest: resolve(config.root, pluginOptions.manifest),
      root: config.root,
      mode,
      ...(precache ? { precache } : {}),
      ...(pluginOptions.sw ? { sw: resolve(config.root, pluginOptions.sw) } : {}),
      ...(pluginOptions.options ? { options: pluginOptions.options } : {}),
    });

  return {
    name: 'strata:sw',
    // After Vite's own build plugins, so the pages are in the bundle when the precache lists it.
    enforce: 'post',
    configResolved(resolved) {
      config = resolved;
    },
    buildStart() {
      if (config.command !== 'build' || this.environment.config.consumer !== 'client') return;
      this.addWatchFile(resolve(config.root, pluginOptions.manifest));
      if (pluginOptions.sw) this.addWatchFile(resolve(config.root, pluginOptions.sw));
      // A precaching worker is built once the bundle it lists is known; the other can start now.
      if (pluginOptions.precache === false) {
        pending = buildIt('production');
        pending.catch(() => undefined); // awaited (and reported) in generateBundle
      } else pending = undefined;
      building = true;
    },
    async generateBundle(_options, bundle) {
      if (!building) return;
      building = false;
      const files = Object.values(bundle).map((file) => ({
        fileName: file.fileName,
        source: file.type === 'chunk' ? file.code : file.source,
      }));
      const precache =
        pluginOptions.precache === false ? undefined : precacheOf(files, config.base, pluginOptions.precache);
      const sw = await (pending ?? buildIt('production', precache));
      pending = undefined;
      this.emitFile({ type: 'asset', fileName, source: sw.code });
      config.logger.info(
        `[strata] ${fileName}  ${formatSize(sw.bytes)} │ gzip: ${formatSize(sw.gzipBytes)} (manifest version ${sw.manifest.version}, ${sw.manifest.routes.length} routes${precache ? `, ${precache.entries.length} precached` : ''})`,
      );
    },
    configureServer(server) {
      let current: Promise<ServiceWorkerBuild> | undefined;
      let files = new Set<string>();
      const latest = (): Promise<ServiceWorkerBuild> => {
        current ??= buildIt('development').then(
          (sw) => {
            files = new Set(sw.files);
            for (const file of files) server.watcher.add(file);
            return sw;
          },
          (error: unknown) => {
            current = undefined; // a broken manifest is retried on the next request
            throw error;
          },
        );
        return current;
      };
      server.watcher.on('change', (file) => {
        if (files.has(resolve(file))) current = undefined;
      });
      const path = `${config.base.endsWith('/') ? config.base : `${config.base}/`}${fileName}`;
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== path || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
        latest().then(
          (sw) => {
            res.setHeader('content-type', 'text/javascript; charset=utf-8');
            // The browser checks for a new worker on navigation; never let its HTTP cache answer.
            res.setHeader('cache-control', 'no-cache');
            res.end(req.method === 'HEAD' ? undefined : sw.code);
          },
          (error: unknown) => {
            config.logger.error(`[strata] cannot build ${fileName}: ${(error as Error).message}`);
            next(error);
          },
        );
      });
    },
  };
}
