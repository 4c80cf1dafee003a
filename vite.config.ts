import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const repo = fileURLToPath(new URL('.', import.meta.url));

// Workspace packages export their TypeScript sources under the `strata-source` condition, so
// tests, benchmarks and the demo run on source without a build step.
const conditions = ['strata-source', 'module', 'node', 'import', 'default'];

export default defineConfig(
  async ({ mode }): Promise<ViteUserConfig> => ({
    // `vite build` / `vite` build and serve the demo's front end; its service worker is built by
    // Strata's plugin from the same manifest the demo server uses.
    root: 'demo',
    publicDir: 'public',
    build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'static' },
    server: { proxy: { '/api': 'http://localhost:3000', '/strata': 'http://localhost:3000' } },
    // Loaded from the packages' build (`npm run build`), and only when building the demo: Vitest
    // runs on the sources and needs no build.
    plugins:
      mode === 'test'
        ? []
        : [
            (await import('@strata/sw/vite')).strata({
              manifest: './strata.manifest.ts',
              options: { maxEntries: 500, navigationFallback: '/' },
            }),
          ],
    resolve: { conditions },
    // Node-side code (tests, the demo server) gets only our source condition: Vitest hands these to
    // Node as --conditions, and `import` there would make CommonJS packages require ESM files.
    ssr: { resolve: { conditions: ['strata-source', 'node'], externalConditions: ['strata-source'] } },
    test: {
      root: repo,
      reporters: ['default', './scripts/summary-reporter.ts'],
      projects: [
        {
          // Pure logic, in-process: fast, no services.
          extends: true,
          test: {
            name: 'unit',
            include: ['packages/*/test/**/*.test.ts', 'demo/test/**/*.test.ts', 'bench/**/*.test.ts', 'test/*.test.ts'],
            exclude: ['packages/*/test/integration/**', 'packages/*/test/browser/**', 'demo/test/integration/**'],
            environment: 'node',
          },
        },
        {
          // Real services the tests start themselves: redis-server, varnishd, HTTP servers on loopback.
          extends: true,
          test: {
            name: 'integration',
            include: ['packages/*/test/integration/**/*.test.ts', 'demo/test/integration/**/*.test.ts'],
            environment: 'node',
            testTimeout: 30_000,
            hookTimeout: 60_000,
          },
        },
        {
          // Real Chromium through Playwright (system browser, see docs/environment.md#chromium).
          extends: true,
          test: {
            name: 'browser',
            include: ['packages/*/test/browser/**/*.test.ts'],
            environment: 'node',
            testTimeout: 60_000,
            hookTimeout: 120_000,
            fileParallelism: false,
          },
        },
        {
          // The packages as users install them: packed, installed into an app outside the
          // repository, imported, type-checked, built and run in Chromium (test/package).
          extends: true,
          test: {
            name: 'package',
            include: ['test/package/**/*.test.ts'],
            environment: 'node',
            // Type-checks start with the install and run beside the other tests; a test awaits its own.
            testTimeout: 180_000,
            hookTimeout: 180_000,
          },
        },
      ],
    },
  }),
);
