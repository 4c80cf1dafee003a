import { answeredBy, expect, pageFetch, swEntries, test, waitForStrata } from './fixtures.js';

test('offline: visited pages and their data still render from the worker; an unvisited one shows the offline state', async ({
  demo,
  browser,
}) => {
  const base = demo.stack.instances[1]?.url ?? '';
  const context = await browser.newContext();
  const page = await demo.open(`${base}/users`, context);
  // Visit the list and one user while the worker controls the page, so both are kept.
  await page.reload();
  await waitForStrata(page);
  await page.goto(`${base}/users/3`);
  await expect(page.getByTestId('user-name')).not.toBeEmpty();
  const name = await page.getByTestId('user-name').textContent();
  await expect.poll(() => swEntries(page, '/api/v1/users/3')).toHaveLength(1);
  await expect.poll(() => swEntries(page, '/users/3')).not.toHaveLength(0);
  await expect.poll(async () => (await swEntries(page, '/')).some((url) => new URL(url).pathname === '/')).toBe(true);

  await context.setOffline(true);
  // A full navigation: the page shell and the record come from the service worker.
  await page.goto(`${base}/users/3`);
  await expect(page.getByTestId('user-name')).toHaveText(name ?? '');
  const seen = await pageFetch(page, '/api/v1/users/3');
  expect(answeredBy(seen.cacheStatus)).toBe('strata-sw');

  // Back to the list (also kept), then a user never visited: the app says it is offline,
  // rather than failing or showing the browser's error page.
  await page.goto(`${base}/users`);
  await expect(page.getByTestId('user-row').first()).toBeVisible();
  await page.locator('[data-testid="user-row"][data-user-id="4"] a').click();
  await expect(page.getByTestId('offline')).toBeVisible();
  expect(new URL(page.url()).pathname).toBe('/users/4');

  // A full navigation to a page never visited: the worker answers with the stored app shell,
  // and the app shows its offline state.
  await page.goto(`${base}/users/5`);
  await expect(page.getByTestId('offline')).toBeVisible();

  await context.setOffline(false);
  await page.reload();
  await expect(page.getByTestId('user-name')).not.toBeEmpty();
  await context.close();
});
