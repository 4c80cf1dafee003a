import { defineConfig } from '@playwright/test';
import { chromiumOptions } from '../packages/sw/test/browser/helpers/browser.js';

/**
 * The end-to-end suite: the demo in the system Chromium (docs/environment.md#chromium), against
 * the stack in `stack.ts` (Redis, PostgreSQL, two instances, Varnish). One worker: the tests share
 * that stack and the machine has two cores.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  globalSetup: './global-setup.ts',
  outputDir: './test-results',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['./summary-reporter.ts']],
  use: {
    launchOptions: chromiumOptions,
    serviceWorkers: 'allow',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
