import { describe, expect, it } from 'vitest';
import { ask, entries, get, setUser, storedEntries } from './helpers/browser.js';
import type { PageGlobals } from './helpers/page.js';
import { workerSuite } from './helpers/suite.js';

// The attacks of a shared browser: the next person at the keyboard, or any later script of the
// origin, reads Cache Storage directly or asks the worker for what it stored.

const { session, unique, fill, server } = workerSuite();

const SECRET = 's3cret-token-Zq9';
const bearer = (user: string) => ({ authorization: `Bearer ${user}.${SECRET}-${user}` });

describe('the Strata service worker in Chromium: one user’s data and credentials never reach another', () => {
  it('even while signed in, no stored request carries Authorization and no key holds the token', async () => {
    await session(async (page) => {
      await setUser(page, 'alice');
      const path = unique('/api/auth/');
      await fill(page, path, bearer('alice'));
      await fill(page, '/api/me', bearer('alice'));
      const stored = await storedEntries(page);
      expect(stored.length).toBe(2);
      for (const entry of stored) {
        expect(entry.requestHeaders.map(([name]) => name)).not.toContain('authorization');
        expect(JSON.stringify(entry)).not.toContain(SECRET);
      }
      // The variant still answers its own credential, and only it.
      expect((await get(page, path, { headers: bearer('alice') })).headers['cache-status']).toMatch(/strata-sw; hit/);
      expect((await get(page, path, { headers: bearer('bob') })).body?.user).toBe('bob');
    });
  });

  it('after sign-out no key, stored request or stored response holds the token, and nothing of the user remains', async () => {
    await session(async (page) => {
      await setUser(page, 'alice');
      await fill(page, unique('/api/auth/'), bearer('alice'));
      await fill(page, '/api/me', bearer('alice'));
      await fill(page, unique('/api/fresh/')); // public, unvaried: shared by design, it stays
      expect(await ask(page, { type: 'strata:logout' })).toMatchObject({ type: 'strata:logged-out', user: null });
      const stored = await storedEntries(page);
      expect(JSON.stringify(stored)).not.toContain(SECRET);
      expect(stored.map((entry) => new URL(entry.url).pathname)).toEqual([expect.stringMatching(/^\/api\/fresh\//)]);
      expect(await entries(page, '/api/me')).toBe(0);
    });
  });

  it('account switch: a page script that posts set-user alice and fetches without a token gets nothing of alice', async () => {
    await session(async (page) => {
      await setUser(page, 'alice');
      expect((await fill(page, '/api/me', bearer('alice'))).body?.user).toBe('alice');
      await setUser(page, 'bob');
      const hits = server().api('/api/me').hits;
      // The attacker's script, straight to the worker.
      await setUser(page, 'alice');
      const read = await get(page, '/api/me');
      expect(read.body?.user).toBeNull(); // the origin's answer to no credential
      expect(server().api('/api/me').hits).toBe(hits + 1);
    });
  });

  it('a stored private entry is served only to the credential it was stored for', async () => {
    await session(async (page) => {
      await setUser(page, 'alice');
      await fill(page, '/api/me', bearer('alice'));
      const hits = server().api('/api/me').hits;
      expect((await get(page, '/api/me', { headers: bearer('alice') })).headers['cache-status']).toMatch(/hit/);
      const bare = await get(page, '/api/me');
      expect(bare.body?.user).toBeNull();
      expect(server().api('/api/me').hits).toBe(hits + 1);
    });
  });

  it('refuses to store a private answer the server names for another partition (Strata-Partition)', async () => {
    await session(async (page) => {
      await setUser(page, 'alice');
      // The session is bob's (his cookie), the page told the worker alice.
      await page.evaluate(() => {
        (globalThis as unknown as PageGlobals).document.cookie = 'user=bob';
      });
      const answer = await get(page, '/api/me');
      expect(answer.body?.user).toBe('bob');
      expect(answer.headers['cache-status']).toMatch(
        /strata-sw; fwd=uri-miss; fwd-status=200; detail=partition-mismatch$/,
      );
      await get(page, '/api/me');
      expect(await entries(page, '/api/me')).toBe(0);
    });
  });
});
