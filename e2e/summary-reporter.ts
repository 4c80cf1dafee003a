import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/** Prints one plain closing line, `e2e: N passed, N failed, N skipped`, like the Vitest run's. */
export default class SummaryReporter implements Reporter {
  readonly #count = { passed: 0, failed: 0, skipped: 0 };

  onTestEnd(_test: TestCase, result: TestResult): void {
    if (result.status === 'passed') this.#count.passed++;
    else if (result.status === 'skipped') this.#count.skipped++;
    else this.#count.failed++;
  }

  onEnd(_result: FullResult): void {
    const { passed, failed, skipped } = this.#count;
    process.stdout.write(`\ne2e: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
