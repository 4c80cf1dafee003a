import { describe, expect, it } from 'vitest';
import { ask, entries, get, setUser, storedEntries } from './helpers/browser.js';
import { workerSuite } from './helpers/suite.js';

// A manifest whose credential is an API key (`defaults.credentialHeaders: ['x-api-key']`), with
// the default worker entry: the worker must treat that header as it treats Authorization.

const { session, unique, fill, server } = workerSuite({ manifest: 'api-key.manifest.ts', entry: null });

const SECRET = 'k3y-secret-Wp7';
const apiKey = (user: string) => ({ 'x-api-key': `${user}.${SECRET}-${user}` });

describe('the Strata service worker in Chromium: a credential header the manifest declares is a credential', () => {
  it('an entry varying on it is kept apart per key, holds no raw key at rest, and is gone after sign-out', async () => {
    await session(async (page) => {
      await setUser(page, 'alice');
      const path = unique('/api/keyed/');
      await fill(page, path, apiKey('alice'));
      await fill(page, unique('/api/fresh/')); // public, unvaried: shared by design, it stays
      await fill(page, unique('/api/auth/'), { authorization: `Bearer alice.${SECRET}` });
      const stored = await storedEntries(page);
      expect(JSON.stringify(stored)).not.toContain(SECRET);
      // One person's data: the credential cache, which a user change or a sign-out drops.
      expect(stored.find((entry) => entry.url.includes('/api/keyed/'))?.cache).toMatch(/:credential$/);

      expect((await get(page, path, { headers: apiKey('alice') })).headers['cache-status']).toMatch(/strata-sw; hit/);
      const hits = server().api(path).hits;
      expect((await get(page, path, { headers: apiKey('bob') })).body?.user).toBe('bob');
      expect((await get(page, path)).body?.user).toBeNull();
      expect(server().api(path).hits).toBe(hits + 2);

      expect(await ask(page, { type: 'strata:logout' })).toMatchObject({ type: 'strata:logged-out', user: null });
      expect(await entries(page, path)).toBe(0);
      expect((await storedEntries(page)).map((entry) => new URL(entry.url).pathname)).toEqual([
        expect.stringMatching(/^\/api\/fresh\//),
      ]);
    });
  });

  it('a private entry answers only the key it was stored for, even from an origin whose Vary omits the key', async () => {
    await session(async (page) => {
      // Not every origin is @strata/server: this one's Vary names only the encoding.
      server().api('/api/me').headers = { vary: 'accept-encoding' };
      await setUser(page, 'alice');
      expect((await fill(page, '/api/me', apiKey('alice'))).body?.user).toBe('alice');
      expect(JSON.stringify(await storedEntries(page))).not.toContain(SECRET);
      expect((await get(page, '/api/me', { headers: apiKey('alice') })).headers['cache-status']).toMatch(/hit/);
      // A script that knows the worker thinks "alice", with another key or none, gets nothing of hers.
      const hits = server().api('/api/me').hits;
      expect((await get(page, '/api/me', { headers: apiKey('mallory') })).body?.user).toBe('mallory');
      expect((await get(page, '/api/me')).body?.user).toBeNull();
      expect(server().api('/api/me').hits).toBe(hits + 2);
    });
  });
});
