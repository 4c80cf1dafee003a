import { createHash } from 'node:crypto';
import type { Page } from '@playwright/test';
import { type StoredEntry, storedEntries } from '../packages/sw/test/browser/helpers/browser.js';
import { expect, pageFetch, purgesSeen, recordPurges, sessionToken, signIn, swEntries, test } from './fixtures.js';

// The next person on a shared browser, or any later script of the origin, reads Cache Storage and
// IndexedDB directly: after an account switch or a sign-out, nothing of the previous user may be
// there, and the worker must hand them nothing.

interface Trace {
  /** Every Cache Storage entry: cache name, key URL, stored request and response headers. */
  entries: StoredEntry[];
  /** The worker's IndexedDB records (`strata:index`): the cache each entry was stored in. */
  records: { cache: string; key: string; url: string }[];
  /** The user the worker persisted. */
  user: unknown;
}

/** What the browser holds at rest, read from the page as a later script could. */
async function browserTrace(page: Page): Promise<Trace> {
  const entries = await storedEntries(page);
  const rest = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('strata:index');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const read = <T>(store: string, query: () => IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        if (!db.objectStoreNames.contains(store)) return resolve(undefined as T);
        const request = query();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const records = (await read('entries', () => db.transaction('entries').objectStore('entries').getAll())) ?? [];
    const user = await read('meta', () => db.transaction('meta').objectStore('meta').get('user'));
    db.close();
    return { records: records as Trace['records'], user };
  });
  return { entries, ...rest };
}

/** Alice signed in, her private record and her token-varied dashboard stored by the worker. */
async function aliceWithData(page: Page, entry: string): Promise<string> {
  await signIn(page, 'alice');
  await page.goto(`${entry}/dashboard`);
  await expect(page.getByTestId('me')).toContainText(/alice/i);
  await expect.poll(() => swEntries(page, '/api/v1/me')).not.toHaveLength(0);
  await expect.poll(() => swEntries(page, '/api/v1/dashboard')).not.toHaveLength(0);
  const token = (await sessionToken(page)) as string;
  expect(token).toMatch(/^alice\./);
  return token;
}

/**
 * The digest the worker keys and marks a token's entries with (the SHA-256 of the varied values,
 * see @strata/sw's `headerDigest`): an entry stored for that token would show it.
 */
const tokenDigest = (token: string): string =>
  createHash('sha256')
    .update(JSON.stringify([['authorization', `Bearer ${token}`]]))
    .digest('hex');

/** Nothing of the user with `token` at rest: no entry of their partition or token, the token nowhere. */
function expectNoTrace(trace: Trace, token: string, user: string): void {
  const secret = token.split('.')[1] as string;
  const all = JSON.stringify(trace);
  expect(all).not.toContain(secret);
  expect(all).not.toContain(tokenDigest(token));
  expect(trace.entries.map((e) => e.cache)).not.toContainEqual(expect.stringMatching(new RegExp(`:user:${user}$`)));
  expect(trace.records.map((r) => r.cache)).not.toContainEqual(expect.stringMatching(new RegExp(`:user:${user}$`)));
  for (const entry of trace.entries) {
    expect(entry.requestHeaders.map(([name]) => name)).not.toContain('authorization');
  }
}

test('account switch: bob never sees alice’s data, and nothing of alice stays in Cache Storage or IndexedDB', async ({
  demo,
}) => {
  const { stack } = demo;
  const page = await demo.open(`${stack.entry(0)}/users`);
  const aliceToken = await aliceWithData(page, stack.entry(0));
  // Even while she is signed in, no stored request carries her token; her entries carry its digest.
  const signedIn = await browserTrace(page);
  for (const entry of signedIn.entries) {
    expect(entry.requestHeaders.map(([name]) => name)).not.toContain('authorization');
  }
  expect(JSON.stringify(signedIn)).toContain(tokenDigest(aliceToken));

  // "Choose an account to switch": bob signs in over alice's session.
  await signIn(page, 'bob');
  await page.goto(`${stack.entry(0)}/dashboard`);
  await expect(page.getByTestId('me')).toContainText(/bob/i);
  await expect(page.getByTestId('me')).not.toContainText(/alice/i);
  const trace = await browserTrace(page);
  expectNoTrace(trace, aliceToken, 'alice');
  expect(trace.user).toBe('bob');

  // A script of the page tells the worker it is alice again and asks for her record with no token.
  const reply = await page.evaluate(
    () =>
      new Promise<unknown>((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (event) => resolve(event.data);
        navigator.serviceWorker.controller?.postMessage({ type: 'strata:set-user', user: 'alice' }, [channel.port2]);
      }),
  );
  expect(reply).toEqual({ type: 'strata:user', user: 'alice' });
  const read = await pageFetch(page, '/api/v1/me');
  expect(read.status).toBe(401);
  expect(read.body).not.toMatch(/alice/i);
});

test('sign-out leaves no trace of the user at rest, and the next user sees nothing of theirs', async ({ demo }) => {
  const { stack } = demo;
  const page = await demo.open(`${stack.entry(0)}/users`);
  const aliceToken = await aliceWithData(page, stack.entry(0));

  await page.getByRole('button', { name: /sign out/i }).click();
  await expect.poll(() => swEntries(page, '/api/v1/me')).toHaveLength(0);
  const trace = await browserTrace(page);
  expectNoTrace(trace, aliceToken, 'alice');
  expect(trace.user).toBeNull();
  // Her record is gone; a dashboard stored now is the anonymous one the page reloaded (no digest of hers).
  expect(trace.entries.map((e) => new URL(e.url).pathname)).not.toContain('/api/v1/me');

  // The next person signs in on the same browser.
  await signIn(page, 'bob');
  const bobToken = (await sessionToken(page)) as string;
  const asBob = await pageFetch(page, '/api/v1/me', { headers: { authorization: `Bearer ${bobToken}` } });
  expect(JSON.parse(asBob.body).username).toBe('bob');
  const dashboard = await pageFetch(page, '/api/v1/dashboard', { headers: { authorization: `Bearer ${bobToken}` } });
  expect((JSON.parse(dashboard.body) as { viewer: string }).viewer).toMatch(/^Bob/);
});

test('a private purge reaches the browser of its owner, whose stream carries her token, and no other user’s', async ({
  demo,
}) => {
  const { stack } = demo;
  const signedIn = async (user: 'alice' | 'bob'): Promise<Page> => {
    const page = await demo.open(`${stack.entry(0)}/users`);
    await signIn(page, user);
    await page.goto(`${stack.entry(0)}/dashboard`);
    await expect(page.getByTestId('me')).toContainText(new RegExp(user, 'i'));
    await expect.poll(() => swEntries(page, '/api/v1/me')).toHaveLength(1);
    await recordPurges(page);
    return page;
  };
  const alice = await signedIn('alice');
  const bob = await signedIn('bob');
  const invalidate = async (body: unknown): Promise<string> => {
    const response = await demo.admin(0, '/invalidate', body);
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const seen = async (page: Page, id: string) => (await purgesSeen(page)).some((p) => p.id === id);

  const hers = await invalidate({ tags: ['me'], partition: 'alice' });
  await expect.poll(() => seen(alice, hers)).toBe(true);
  // Her worker evicted her stored record (its acknowledgement counts it). The dashboard then
  // re-renders what the purge named and may store a fresh copy, so the count is the proof.
  expect((await purgesSeen(alice)).find((p) => p.id === hers)?.evicted).toBe(1);
  // A public purge published after hers reaches bob: by then hers would have too.
  const everyone = await invalidate({ tags: ['nothing-stored'] });
  await expect.poll(() => seen(bob, everyone)).toBe(true);
  expect(await seen(bob, hers)).toBe(false);
  expect(await swEntries(bob, '/api/v1/me')).toHaveLength(1);
});
