import { defineConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the `strata-source` condition, so
// tests, benchmarks and the demo run on source without a build step.
const conditions = ['strata-source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['strata-source'] } },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
});
