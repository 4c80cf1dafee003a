import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `strata-source` condition, so
// tests, benchmarks and the demo run on source without a build step.
const conditions = ['strata-source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  // Node-side code (tests, the demo server) gets only our source condition: Vitest hands these to
  // Node as --conditions, and `import` there would make CommonJS packages require ESM files.
  ssr: { resolve: { conditions: ['strata-source', 'node'], externalConditions: ['strata-source'] } },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        // Pure logic, in-process: fast, no services.
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/integration/**', 'packages/*/test/browser/**'],
          environment: 'node',
        },
      },
      {
        // Real services the tests start themselves: redis-server, varnishd, HTTP servers on loopback.
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Real Chromium through Playwright (system browser, see ENVIRONMENT.md).
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
    ],
  },
});
