import { answeredBy, evictFromBrowser, expect, originThenWorker, pageFetch, swEntries, test } from './fixtures.js';

test('each layer answers in turn: service worker, then Varnish, then the server cache, then the origin', async ({
  demo,
}) => {
  const { stack } = demo;
  // A page that does not itself load the users list, so the origin counter moves only for us.
  const page = await demo.open(`${stack.entry(0)}/dashboard`);
  const path = '/api/v1/users?perPage=5&page=3';
  const route = 'GET /api/v1/users';
  const before = await demo.originHits(route);

  // First load: nobody has it, the origin answers and every layer on the way stores it; the
  // second load comes from the service worker, without the network.
  const first = await originThenWorker(
    page,
    path,
    'page=3',
    /strata; fwd=uri-miss.*varnish; fwd=miss; stored.*strata-sw; fwd=uri-miss/,
    () => demo.originHits(route),
  );

  // Out of the browser's cache only: Varnish has it.
  expect(await evictFromBrowser(page, 'page=3')).toBe(1);
  const third = await pageFetch(page, path);
  expect(answeredBy(third.cacheStatus)).toBe('varnish');
  expect(third.body).toBe(first.body);

  // Out of Varnish too (an xkey purge sent to Varnish alone): the server cache has it.
  const purge = await fetch(stack.entry(0), { method: 'PURGE', headers: { 'xkey-purge': 'users' } });
  expect(Number(purge.headers.get('xkey-purged'))).toBeGreaterThan(0);
  await expect.poll(() => swEntries(page, 'page=3')).toHaveLength(1);
  await evictFromBrowser(page, 'page=3');
  const fourth = await pageFetch(page, path);
  expect(answeredBy(fourth.cacheStatus)).toBe('strata');
  expect(fourth.xCache).toBe('HIT');
  expect(fourth.body).toBe(first.body);

  // Three answers later, still one trip to the origin.
  expect(await demo.originHits(route)).toBe(before + 1);

  // The app's own overlay names the layer of each request: after one load through the worker,
  // the list the page shows on the next load comes from the service worker.
  await page.goto(`${stack.entry(0)}/users`);
  await expect(page.getByTestId('user-row').first()).toBeVisible();
  await page.reload();
  const listEntry = page.locator('[data-testid="overlay-entry"][data-path="/api/v1/users"]').first();
  await expect(listEntry).toHaveAttribute('data-layer', 'sw');
});
