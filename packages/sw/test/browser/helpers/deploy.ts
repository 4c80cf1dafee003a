import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type EntryOptions, strata } from '@strata/sw/vite';
import type { Page } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import type { PageGlobals } from './page.js';

/** The fixture app of the deploy tests (fixtures/deploy) and the manifest its worker inlines. */
export const deployRoot = fileURLToPath(new URL('../fixtures/deploy/', import.meta.url));
export const deployManifest = fileURLToPath(new URL('../../fixtures/default.manifest.ts', import.meta.url));

/** A deploy's files by path (`/index.html`, `/sw.js`, `/assets/…`). */
export type Files = Map<string, string | Uint8Array>;

/**
 * `vite build` of the fixture app with the strata() plugin (precache on by default), in memory.
 * `name` is written into the lazily loaded route, so each deploy's chunks have hashes of their own;
 * `options` are the default worker entry's (`skipWaiting: false` for prompt updates).
 */
export async function deploy(name: string, options?: EntryOptions): Promise<Files> {
  const result = (await build({
    root: deployRoot,
    configFile: false,
    logLevel: 'silent',
    define: { __DEPLOY__: JSON.stringify(name) },
    plugins: [strata({ manifest: deployManifest, ...(options ? { options } : {}) })],
    build: {
      write: false,
      rolldownOptions: { input: { index: `${deployRoot}index.html`, about: `${deployRoot}about.html` } },
    },
  })) as Rolldown.RolldownOutput;
  return new Map(result.output.map((file) => [`/${file.fileName}`, file.type === 'chunk' ? file.code : file.source]));
}

const TYPES: Record<string, string> = { js: 'text/javascript', html: 'text/html', css: 'text/css' };

export interface Host {
  server: Server;
  url: string;
  /** The deploy served now: a file of another deploy is a 404, as on a static host after a deploy. */
  files: Files;
  /** Drops every connection. */
  offline: boolean;
  /** The Cookie header of the first request for each path. */
  cookies: Map<string, string | undefined>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** Serves one deploy at a time, as a static host would. */
export function host(): Host {
  const state: Host = {
    files: new Map(),
    offline: false,
    url: '',
    cookies: new Map(),
    server: createServer((req, res) => {
      if (state.offline) return void req.socket.destroy();
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!state.cookies.has(path)) state.cookies.set(path, req.headers.cookie);
      // A static host has no purge stream: 204 tells the page client so, and it does not reopen it.
      if (path === '/strata/events') return void res.writeHead(204).end();
      const body = state.files.get(path === '/' ? '/index.html' : path);
      if (body === undefined) return void res.writeHead(404).end('not found');
      const type = TYPES[path.split('.').pop() ?? ''] ?? 'text/html';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
      res.end(body);
    }),
    async listen() {
      await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
      state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
    },
    async close() {
      state.server.closeAllConnections();
      await new Promise((resolve) => state.server.close(resolve));
    },
  };
  return state;
}

/** The names of the precache caches the page's origin holds. */
export const precacheNames = (page: Page): Promise<string[]> =>
  page.evaluate(async () => {
    const { caches } = globalThis as unknown as PageGlobals;
    return (await caches.keys()).filter((name) => /-precache:./.test(name));
  });

/** Has the fixture page load its lazy route (`import('./lazy.js')`); resolves with the route's text. */
export const loadRoute = (page: Page): Promise<string> =>
  page.evaluate(() => (globalThis as unknown as { loadRoute(): Promise<string> }).loadRoute());
