import { fileURLToPath } from 'node:url';
import type { RegisterOptions, StrataClient } from '@strata/client';
import { buildServiceWorker } from '@strata/sw/vite';
import type { Browser } from 'playwright-core';
import { build, type Rolldown } from 'vite';
import manifest from '../../../sw/test/browser/fixtures/manifest.js';
import { launchChromium } from '../../../sw/test/browser/helpers/browser.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../../../sw/test/browser/helpers/server.js';

// The fixture app, server and worker of the @strata/sw browser suites are reused: the client is
// tested against the real worker.
export {
  controlledPage,
  entries,
  get,
  launchChromium,
  waitForEntries,
} from '../../../sw/test/browser/helpers/browser.js';
export type { PageGlobals } from '../../../sw/test/browser/helpers/page.js';
export { startTestServer, type TestServer } from '../../../sw/test/browser/helpers/server.js';
export const swFixture = (name: string): string =>
  fileURLToPath(new URL(`../../../sw/test/browser/fixtures/${name}`, import.meta.url));

/**
 * The page client as a classic script defining `StrataClient`, built from source; or, with
 * `entry`, a page script of the client's tests (with the libraries it imports).
 */
export async function buildClient(entry = '../../src/index.ts'): Promise<string> {
  const conditions = ['strata-source', 'browser', 'module', 'import', 'default'];
  const output = (await build({
    configFile: false,
    logLevel: 'silent',
    resolve: { conditions },
    define: { 'process.env.NODE_ENV': JSON.stringify('production') },
    build: {
      write: false,
      minify: false,
      lib: {
        entry: fileURLToPath(new URL(entry, import.meta.url)),
        formats: ['iife'],
        name: 'StrataClient',
      },
    },
  })) as Rolldown.RolldownOutput[];
  return output[0]?.output[0].code ?? '';
}

/** What the client tests read and write on the page's global object. */
export interface ClientPage {
  StrataClient: { registerStrata(options: RegisterOptions): Promise<StrataClient> };
  strata: StrataClient;
  seen: { type: string; id?: string; evicted?: number; reason?: string }[];
}

/** The fixture app served with the built worker and client, and a Chromium to open it in. */
export async function startClientApp(
  options: TestServerOptions = {},
): Promise<{ server: TestServer; browser: Browser }> {
  const [sw, client, server, browser] = await Promise.all([
    buildServiceWorker({ manifest: swFixture('manifest.ts'), sw: swFixture('sw.ts'), root: swFixture('') }),
    buildClient(),
    startTestServer(manifest, options),
    launchChromium(),
  ]);
  server.sw = sw.code;
  server.client = client;
  return { server, browser };
}
