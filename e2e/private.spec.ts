import { expect, pageFetch, sessionToken, signIn, swEntries, test } from './fixtures.js';

test('private data: after Alice signs out and Bob signs in, no layer shows Bob anything of Alice', async ({ demo }) => {
  const { stack } = demo;
  const page = await demo.open(`${stack.entry(0)}/users`);

  await signIn(page, 'alice');
  await page.goto(`${stack.entry(0)}/dashboard`);
  await expect(page.getByTestId('me')).toContainText(/alice/i);
  const alice = await pageFetch(page, '/api/v1/me', {
    headers: { authorization: `Bearer ${await sessionToken(page)}` },
  });
  expect(JSON.parse(alice.body).username).toBe('alice');
  await expect.poll(() => swEntries(page, '/api/v1/me')).not.toHaveLength(0);

  // Sign out: the worker drops Alice's partition.
  await page.getByRole('button', { name: /sign out/i }).click();
  await expect.poll(() => swEntries(page, '/api/v1/me')).toHaveLength(0);
  const anonymous = await pageFetch(page, '/api/v1/me');
  expect(anonymous.status).toBe(401);
  expect(anonymous.body).not.toMatch(/alice/i);

  await signIn(page, 'bob');
  await page.goto(`${stack.entry(0)}/dashboard`);
  await expect(page.getByTestId('me')).toContainText(/bob/i);
  await expect(page.getByTestId('me')).not.toContainText(/alice/i);

  // Every layer, asked directly with Bob's token or none: never Alice's record.
  const bobToken = await sessionToken(page);
  for (const url of [stack.entry(0), ...stack.instances.map((i) => i.url)]) {
    const asBob = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${bobToken}` } });
    expect(((await asBob.json()) as { username: string }).username).toBe('bob');
    const nobody = await fetch(`${url}/api/v1/me`);
    expect(nobody.status).toBe(401);
    expect(await nobody.text()).not.toMatch(/alice/i);
  }
  // Varnish never stored a private answer.
  const viaCdn = await fetch(`${stack.entry(0)}/api/v1/me`, { headers: { authorization: `Bearer ${bobToken}` } });
  expect(viaCdn.headers.get('cache-status') ?? '').not.toMatch(/varnish; hit/);
});
