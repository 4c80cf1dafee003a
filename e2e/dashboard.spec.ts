import type { Page } from '@playwright/test';
import { expect, pageFetch, purgesSeen, recordPurges, swEntries, test, waitForStrata } from './fixtures.js';

async function openDashboard(page: Page, token: string): Promise<void> {
  await page.getByLabel(/admin token/i).fill(token);
  await page.getByRole('button', { name: /open the dashboard/i }).click();
  await expect(page.getByTestId('stat-hit-ratio')).toBeVisible();
}

test('the cache dashboard: stats render, the chart moves, invalidating a tag purges another tab, clear-all asks first', async ({
  demo,
}) => {
  const { stack } = demo;
  const b = stack.instances[1]?.url ?? '';
  // Another tab, on instance B, with user 5 in its worker.
  const reader = await demo.open(`${b}/users/5`);
  await reader.reload();
  await waitForStrata(reader);
  await expect.poll(() => swEntries(reader, '/api/v1/users/5')).toHaveLength(1);
  await recordPurges(reader);

  const admin = await demo.open(`${stack.entry(0)}/admin`);
  await openDashboard(admin, stack.adminToken);
  for (const stat of ['hit-ratio', 'entries', 'memory', 'sse', 'bus-lag', 'outbox']) {
    await expect(admin.getByTestId(`stat-${stat}`).getByTestId('stat-value')).not.toBeEmpty();
  }
  // The chart takes a sample per poll: it grows while the page is open.
  const chart = admin.getByTestId('hit-chart');
  const points = Number(await chart.getAttribute('data-points'));
  await expect.poll(async () => Number(await chart.getAttribute('data-points'))).toBeGreaterThan(points + 1);
  // The per-route table is instance A's: one request there for the record shows up in it.
  await (await fetch(`${stack.instances[0]?.url}/api/v1/users/5`)).arrayBuffer();
  await expect(admin.getByTestId('route-table')).toContainText('/api/v1/users/:id');

  // Invalidate user:5 from the dashboard: the reader's worker drops it.
  await admin.getByTestId('invalidate-kind').selectOption('tag');
  await admin.getByTestId('invalidate-value').fill('user:5');
  await admin.getByTestId('invalidate-submit').click();
  await expect(admin.getByTestId('invalidate-result')).toContainText(/\d+-\d+/);
  // (The reader shows that user, so it fetches the record again right after: look at what its
  // worker reported evicting rather than at what is in its cache now.)
  await expect
    .poll(async () => (await purgesSeen(reader)).find((p) => p.tags.includes('user:5'))?.evicted)
    .toBeGreaterThanOrEqual(1);
  await expect(admin.getByTestId('purge-entry').first()).toBeVisible();

  // Clear all: nothing happens until it is confirmed.
  await pageFetch(reader, '/api/v1/users/6');
  await expect.poll(() => swEntries(reader, '/api/v1/users/6')).toHaveLength(1);
  await admin.getByTestId('clear-all').click();
  await expect(admin.getByTestId('clear-all-dialog')).toBeVisible();
  await admin.getByRole('button', { name: /cancel/i }).click();
  await expect(admin.getByTestId('clear-all-dialog')).toBeHidden();
  expect(await swEntries(reader, '/api/v1/users/6')).toHaveLength(1);
  await admin.getByTestId('clear-all').click();
  await admin.getByTestId('clear-all-confirm').click();
  await expect.poll(() => swEntries(reader, '/api/v1/users/6')).toHaveLength(0);
});

test('screenshots at 375 px and 1440 px, and no console error on any page', async ({ demo, browser }, testInfo) => {
  const { stack } = demo;
  const base = stack.entry(0);
  const problems: string[] = [];
  for (const width of [375, 1440]) {
    const context = await browser.newContext({ viewport: { width, height: width < 800 ? 812 : 900 } });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${width}px ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`${width}px ${error.message}`));
    await page.goto(`${base}/users`);
    await waitForStrata(page);
    for (const [name, path] of [
      ['users', '/users'],
      ['user', '/users/1'],
      ['dashboard', '/dashboard'],
      ['admin', '/admin'],
    ] as const) {
      await page.goto(`${base}${path}`);
      await waitForStrata(page);
      if (name === 'admin') await openDashboard(page, stack.adminToken);
      else await expect(page.locator('main')).not.toBeEmpty();
      // Nothing wider than the screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      // Kept in e2e/test-results (and attached to the report) as the run's artifacts.
      const file = testInfo.outputPath(`${name}-${width}px.png`);
      await page.screenshot({ path: file, fullPage: true });
      await testInfo.attach(`${name}-${width}px`, { path: file, contentType: 'image/png' });
    }
    await context.close();
  }
  expect(problems).toEqual([]);
});
