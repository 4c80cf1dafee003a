/**
 * The Workbox baselines the service-worker benchmarks compare against: one route with
 * StaleWhileRevalidate, optionally with the ExpirationPlugin, written as Workbox's docs show it
 * and bundled with Vite like any app's worker.
 */
import { build, type Plugin, type Rolldown } from 'vite';

export interface WorkboxWorkerOptions {
  /** URLs whose path starts with this are handled; the rest go to the network. */
  pathPrefix: string;
  cacheName: string;
  /** ExpirationPlugin settings; none: plain StaleWhileRevalidate. */
  expiration?: { maxEntries: number; maxAgeSeconds: number };
}

const entrySource = ({ pathPrefix, cacheName, expiration }: WorkboxWorkerOptions): string => `
import { clientsClaim, skipWaiting } from 'workbox-core';
import { registerRoute } from 'workbox-routing';
import { StaleWhileRevalidate } from 'workbox-strategies';
${expiration ? "import { ExpirationPlugin } from 'workbox-expiration';" : ''}
skipWaiting();
clientsClaim();
registerRoute(
  ({ url }) => url.pathname.startsWith(${JSON.stringify(pathPrefix)}),
  new StaleWhileRevalidate({
    cacheName: ${JSON.stringify(cacheName)},
    plugins: [${expiration ? `new ExpirationPlugin({ maxEntries: ${expiration.maxEntries}, maxAgeSeconds: ${expiration.maxAgeSeconds} })` : ''}],
  }),
);
`;

/** The worker's code, minified, production build (Workbox's dev logging stripped). */
export async function buildWorkboxWorker(options: WorkboxWorkerOptions): Promise<string> {
  const id = '\0workbox-bench-entry';
  const entry: Plugin = {
    name: 'workbox-bench-entry',
    resolveId: (source) => (source.endsWith('workbox-bench-entry') ? id : undefined),
    load: (source) => (source === id ? entrySource(options) : undefined),
  };
  const output = (await build({
    configFile: false,
    logLevel: 'silent',
    plugins: [entry],
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: { write: false, minify: true, lib: { entry: 'workbox-bench-entry', formats: ['iife'], name: 'sw' } },
  })) as Rolldown.RolldownOutput[];
  const code = output[0]?.output[0].code;
  if (!code) throw new Error('the Workbox worker build produced no code');
  return code;
}
