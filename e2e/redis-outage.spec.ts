import { expect, pageFetch, swEntries, test, waitForStrata } from './fixtures.js';

test('Redis killed mid-session: the app keeps answering, the dashboard shows the outage, and purges made meanwhile arrive after it is back', async ({
  demo,
}) => {
  const { stack } = demo;
  const id = 12;
  const a = stack.instances[0]?.url ?? '';
  const b = stack.instances[1]?.url ?? '';
  // A reader on instance B with the user in its worker.
  const reader = await demo.open(`${b}/users/${id}`);
  await reader.reload();
  await waitForStrata(reader);
  await expect.poll(() => swEntries(reader, `/api/v1/users/${id}`)).toHaveLength(1);
  // The cache dashboard on instance A.
  const dashboard = await demo.open(`${a}/admin`);
  await dashboard.getByLabel(/admin token/i).fill(stack.adminToken);
  await dashboard.getByRole('button', { name: /open the dashboard/i }).click();
  await expect(dashboard.getByTestId('stat-hit-ratio')).toBeVisible();
  await expect(dashboard.getByTestId('outage')).toBeHidden();

  await stack.redis.kill();
  let revived = false;
  try {
    // Still answering, from the origin: BYPASS, never an error page.
    const bypassed = await fetch(`${a}/api/v1/users/${id + 1}`);
    expect(bypassed.status).toBe(200);
    expect(bypassed.headers.get('x-cache')).toBe('BYPASS');

    // An edit while Redis is down: its purge waits in instance A's outbox.
    const login = await fetch(`${a}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice' }),
    });
    const { token } = (await login.json()) as { token: string };
    const newName = `Renamed during the outage ${Date.now()}`;
    const edit = await fetch(`${a}/api/v1/users/${id}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: newName }),
    });
    expect(edit.status).toBe(200);
    await expect(dashboard.getByTestId('outage')).toBeVisible();
    await expect(dashboard.getByTestId('outage')).toContainText(/queued/i);

    // Back: the outbox is flushed, the reader's worker drops the user, the page shows the edit.
    await stack.redis.restart();
    revived = true;
    await expect(reader.getByTestId('user-name')).toHaveText(newName, { timeout: 30_000 });
    await expect(dashboard.getByTestId('outage')).toBeHidden({ timeout: 30_000 });
    const seen = await pageFetch(reader, `/api/v1/users/${id}`);
    expect(JSON.parse(seen.body).name).toBe(newName);
  } finally {
    // The rest of the suite shares this Redis.
    if (!revived) await stack.redis.restart();
  }
});
