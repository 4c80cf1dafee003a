import {
  answeredBy,
  expect,
  pageFetch,
  purgesSeen,
  recordPurges,
  signIn,
  swEntries,
  test,
  waitForStrata,
} from './fixtures.js';

test('an edit on instance A reaches a tab on instance B: its worker, Varnish and both server caches drop the user', async ({
  demo,
}) => {
  const { stack } = demo;
  const id = 7;
  // Tab 2 on instance B shows the user, with the record in its service worker.
  const tab2 = await demo.open(`${stack.instances[1]?.url}/users/${id}`);
  await tab2.reload();
  await waitForStrata(tab2);
  const oldName = (await tab2.getByTestId('user-name').textContent()) ?? '';
  expect(oldName).not.toBe('');
  await expect.poll(() => swEntries(tab2, `/api/v1/users/${id}`)).toHaveLength(1);
  await recordPurges(tab2);

  // Warm Varnish and the server cache with the old record.
  await fetch(`${stack.entry(0)}/api/v1/users/${id}`);
  const cdnBefore = await fetch(`${stack.entry(0)}/api/v1/users/${id}`);
  expect(answeredBy(cdnBefore.headers.get('cache-status') ?? '')).toBe('varnish');

  // Tab 1, through Varnish to instance A, edits the user.
  const tab1 = await demo.open(`${stack.entry(0)}/users`);
  await signIn(tab1, 'alice');
  await tab1.goto(`${stack.entry(0)}/users/${id}/edit`);
  const newName = `Renamed ${Date.now()}`;
  await tab1.getByLabel('Name').fill(newName);
  const saved = tab1.waitForResponse((r) => r.url().endsWith(`/api/v1/users/${id}`) && r.request().method() === 'PUT');
  const savedAt = await tab1.evaluate(() => Date.now());
  await tab1.getByRole('button', { name: 'Save' }).click();
  expect((await saved).status()).toBe(200);

  // Tab 2 shows the new name without a reload, its worker having dropped the old record.
  await expect(tab2.getByTestId('user-name')).toHaveText(newName);
  const purge = (await purgesSeen(tab2)).find((p) => p.tags.includes(`user:${id}`));
  expect(purge).toBeDefined();
  expect(purge?.evicted).toBeGreaterThanOrEqual(1);
  const seen = await pageFetch(tab2, `/api/v1/users/${id}`);
  expect(JSON.parse(seen.body).name).toBe(newName);
  // From the click on Save (which includes the write: DEMO_DELAY_MS) to the other browser's
  // worker having evicted the record: A → Redis Stream → B → SSE → client → worker.
  const elapsed = (purge?.at ?? 0) - savedAt;
  console.log(`edit on instance A → evicted by the worker of a tab on instance B: ${elapsed} ms`);
  test.info().annotations.push({ type: 'edit-to-eviction-ms', description: String(elapsed) });

  // Varnish and both instances' server caches have dropped it too: whichever answers now (tab 1
  // has already fetched the record again through Varnish), it is the new record.
  const cdn = await fetch(`${stack.entry(0)}/api/v1/users/${id}`);
  expect(((await cdn.json()) as { name: string }).name).toBe(newName);
  // Instance A's reports of its CDN purges (oldest first): the last one dropped the object.
  await expect
    .poll(async () => {
      const stats = (await (await demo.admin(0, '/stats')).json()) as { cdn: { purger: string; purged?: number }[] };
      return stats.cdn.filter((report) => report.purger === 'varnish').at(-1)?.purged;
    })
    .toBeGreaterThanOrEqual(1);
  for (const instance of stack.instances) {
    const direct = await fetch(`${instance.url}/api/v1/users/${id}`);
    expect(((await direct.json()) as { name: string }).name).toBe(newName);
  }
});

test('a tab closed while 20 purges happen catches up when it reopens, and serves nothing stale', async ({
  demo,
  browser,
}) => {
  const { stack } = demo;
  const ids = Array.from({ length: 20 }, (_, i) => 21 + i);
  const context = await browser.newContext();
  const page = await demo.open(`${stack.instances[1]?.url}/users`, context);
  for (const id of ids) await pageFetch(page, `/api/v1/users/${id}`);
  await expect.poll(async () => (await swEntries(page, '/api/v1/users/')).length).toBeGreaterThanOrEqual(20);
  await page.close();

  // Twenty edits while no tab of this browser is open, made on the other instance.
  const login = await fetch(`${stack.instances[0]?.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bob' }),
  });
  const { token } = (await login.json()) as { token: string };
  const names = new Map<number, string>();
  for (const id of ids) {
    const name = `Edited while away ${id}`;
    names.set(id, name);
    const response = await fetch(`${stack.instances[0]?.url}/api/v1/users/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(response.status).toBe(200);
  }

  // Reopened: the client resumes from the last purge it applied and the worker evicts all 20.
  const reopened = await context.newPage();
  await reopened.goto(`${stack.instances[1]?.url}/users`);
  await waitForStrata(reopened);
  await expect.poll(async () => (await swEntries(reopened, '/api/v1/users/')).length).toBe(0);
  for (const id of ids) {
    const seen = await pageFetch(reopened, `/api/v1/users/${id}`);
    expect(answeredBy(seen.cacheStatus)).not.toBe('strata-sw');
    expect(JSON.parse(seen.body).name).toBe(names.get(id));
  }
  await context.close();
});
