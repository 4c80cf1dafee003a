import { describe, expect, it } from 'vitest';
import { advance, ask, entries, get, hasEntry, waitForEntries, waitForStat } from './helpers/browser.js';
import type { PageGlobals } from './helpers/page.js';
import { workerSuite } from './helpers/suite.js';

const { session, unique, fill, server } = workerSuite();

describe('the Strata service worker in Chromium: purges, partitions, messages', () => {
  it('purges by tag every Vary variant, and nothing else', async () => {
    await session(async (page) => {
      const path = unique('/api/vary/');
      const other = unique('/api/vary/');
      const en = { 'accept-language': 'en' };
      const fr = { 'accept-language': 'fr' };
      expect((await fill(page, path, en)).body?.lang).toBe('en');
      expect((await fill(page, path, fr)).body?.lang).toBe('fr');
      await fill(page, other, en);
      expect(await entries(page, path)).toBe(2);
      expect((await get(page, path, { headers: fr })).body?.lang).toBe('fr'); // variants are not mixed up
      expect((await get(page, path, { headers: en })).body?.lang).toBe('en');
      expect(server().api(path).hits).toBe(2);

      const tag = `vary:${path.split('/').pop()}`;
      expect(await ask(page, { type: 'strata:purge', id: 'p1', tags: [tag], keys: [] })).toEqual({
        type: 'strata:purged',
        id: 'p1',
        evicted: 2,
      });
      expect(await hasEntry(page, path)).toBe(false);
      await get(page, path, { headers: en });
      await get(page, path, { headers: fr });
      expect(server().api(path).hits).toBe(4);
      expect((await get(page, other, { headers: en })).headers['cache-status']).toMatch(/strata-sw; hit/);
    });
  });

  it('purges by key: a path reaches every query variant, a URL only itself', async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/');
      await fill(page, `${path}?page=1`);
      await fill(page, `${path}?page=2`);
      expect(await ask(page, { type: 'strata:purge', tags: [], keys: [`${path}?page=1`] })).toMatchObject({
        evicted: 1,
      });
      expect(await hasEntry(page, `${path}?page=2`)).toBe(true);
      await fill(page, `${path}?page=1`);
      expect(await ask(page, { type: 'strata:purge', tags: [], keys: [`${server().origin}${path}`] })).toMatchObject({
        evicted: 2,
      });
      expect(await hasEntry(page, `${path}?page=1`)).toBe(false);
      expect(await hasEntry(page, `${path}?page=2`)).toBe(false);
    });
  });

  it('stores a percent-encoded path under its canonical key, so the plain spelling hits and a purge by it evicts', async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/'); // ends in a digit, an unreserved character
      const encoded = `${path.slice(0, -1)}%${path.charCodeAt(path.length - 1).toString(16)}`;
      const before = await entries(page, path);
      await get(page, encoded);
      await waitForEntries(page, path, before + 1); // RFC 3986 §6.2.2.2: stored as the decoded path
      expect((await get(page, path)).headers['cache-status']).toMatch(/strata-sw; hit/);
      expect(await ask(page, { type: 'strata:purge', tags: [], keys: [path] })).toMatchObject({ evicted: 1 });
      expect(await hasEntry(page, path)).toBe(false);
    });
  });

  it('a purge during an in-flight revalidation does not write the purged entry back', async () => {
    await session(async (page) => {
      const path = unique('/api/swr/');
      const id = path.split('/').pop();
      const route = server().api(path);
      await fill(page, path);
      await advance(page, 90);
      route.version = 2;
      const held = route.hold();
      expect((await get(page, path)).body?.version).toBe(1); // stale, revalidation started
      await held.arrived; // the revalidation is at the origin, its response held open
      expect(await ask(page, { type: 'strata:purge', tags: [`item:${id}`], keys: [] })).toMatchObject({ evicted: 1 });
      held.release(); // the pre-purge response now reaches the worker
      await waitForStat(page, '/api/swr/:id', 'discarded', 1);
      expect(await hasEntry(page, path)).toBe(false);
      const next = await get(page, path);
      expect(next.headers['cache-status']).toMatch(/strata-sw; fwd=uri-miss/);
      expect(route.hits).toBe(3);
    });
  });

  it('keeps only the current user’s private entries: a switch drops the previous user’s, so alice→bob→alice is a miss; logout clears', async () => {
    await session(async (page) => {
      const as = async (user: string) => {
        await page.evaluate((u) => {
          (globalThis as unknown as PageGlobals).document.cookie = `user=${u}`;
        }, user);
        expect(await ask(page, { type: 'strata:set-user', id: 1, user })).toEqual({ type: 'strata:user', id: 1, user });
      };
      const names = () => page.evaluate(() => (globalThis as unknown as PageGlobals).caches.keys());
      const route = server().api('/api/me');
      const before = route.hits;
      await as('alice');
      expect((await fill(page, '/api/me')).body?.user).toBe('alice');
      expect((await get(page, '/api/me')).body?.user).toBe('alice');
      await as('bob');
      expect(await names()).not.toContain('strata:test-1:user:alice');
      expect((await fill(page, '/api/me')).body?.user).toBe('bob');
      await as('alice');
      expect(await names()).not.toContain('strata:test-1:user:bob');
      // Alice's entry went when bob signed in: she starts from the network again.
      const again = await get(page, '/api/me');
      expect(again.body?.user).toBe('alice');
      expect(again.headers['cache-status']).toMatch(/strata-sw; fwd=uri-miss/);
      expect(route.hits - before).toBe(3);

      await waitForEntries(page, '/api/me', 1);
      const out = await ask(page, { type: 'strata:logout', user: 'alice' });
      expect(out).toEqual({ type: 'strata:logged-out', user: null, evicted: 1 });
      expect(await names()).not.toContain('strata:test-1:user:alice');
      // No user now: a private route goes to the network and is not stored.
      const anonymous = await get(page, '/api/me');
      expect(anonymous.headers['cache-status']).toMatch(/strata-sw; fwd=bypass; detail=no-user$/);
      expect(route.hits - before).toBe(4);
      // A tag purge reaches the user partition.
      await as('carol');
      await fill(page, '/api/me');
      expect(await ask(page, { type: 'strata:purge', tags: ['me'], keys: [] })).toMatchObject({ evicted: 1 });
      expect(await entries(page, '/api/me')).toBe(0);
    });
  });

  it('applies a purge posted while the worker is stopped (postMessage wakes it); a restarted worker remembers the user', async () => {
    await session(async (page, context) => {
      const path = unique('/api/fresh/');
      await fill(page, path);
      await page.evaluate(() => {
        (globalThis as unknown as PageGlobals).document.cookie = 'user=carol';
      });
      await ask(page, { type: 'strata:set-user', user: 'carol' });
      await fill(page, '/api/me');
      const hits = server().api('/api/me').hits;

      const cdp = await context.newCDPSession(page);
      const stopped = new Promise<void>((resolve) => {
        cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }) => {
          if (versions.some((v: { runningStatus: string }) => v.runningStatus === 'stopped')) resolve();
        });
      });
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await stopped;

      expect(await ask(page, { type: 'strata:purge', tags: [], keys: [path] })).toMatchObject({ evicted: 1 });
      expect(await hasEntry(page, path)).toBe(false);
      // The user came back from IndexedDB: carol's entry is served from her partition.
      expect((await get(page, '/api/me')).headers['cache-status']).toMatch(/strata-sw; hit/);
      expect(server().api('/api/me').hits).toBe(hits);
    });
  });

  it('counts per route: hit, miss, stale, revalidated, error-fallback, purged', async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/');
      await fill(page, path);
      await get(page, path);
      await get(page, path);
      await ask(page, { type: 'strata:purge', tags: [], keys: [path] });
      const reply = await ask<{
        type: string;
        routes: Record<string, Record<string, number>>;
        total: Record<string, number>;
      }>(page, { type: 'strata:stats', id: 's' });
      expect(reply.type).toBe('strata:stats');
      expect(reply.routes['/api/fresh/:id']).toEqual({
        hit: 2,
        miss: 1,
        stale: 0,
        revalidated: 0,
        'error-fallback': 0,
        purged: 1,
        discarded: 0,
      });
      expect(reply.total.hit).toBe(2);
    });
  });

  it('answers malformed messages with an error and keeps working; ignores messages that are not its own', async () => {
    await session(async (page) => {
      // An app message on the same channel gets no reply from Strata (the fixture's clock is one too).
      const strayReplies = await page.evaluate(async () => {
        const { navigator, MessageChannel } = globalThis as unknown as PageGlobals;
        const stray = new MessageChannel();
        let replies = 0;
        stray.port1.onmessage = () => replies++;
        navigator.serviceWorker.controller?.postMessage({ type: 'app:hello' }, [stray.port2]);
        navigator.serviceWorker.controller?.postMessage({ notEven: 'typed' }, []);
        const answered = new MessageChannel();
        await new Promise((resolve) => {
          answered.port1.onmessage = resolve;
          navigator.serviceWorker.controller?.postMessage({ type: 'strata:stats' }, [answered.port2]);
        });
        return replies;
      });
      expect(strayReplies).toBe(0);
      expect(await ask(page, { type: 'strata:purge', id: 7, tags: 'users', keys: [] })).toMatchObject({
        type: 'strata:error',
        id: 7,
        error: { code: 'E_MESSAGE_INVALID' },
      });
      expect(await ask(page, { type: 'strata:purge', tags: ['has space'], keys: [] })).toMatchObject({
        type: 'strata:error',
        error: { code: 'E_MESSAGE_INVALID' },
      });
      expect(await ask(page, { type: 'strata:set-user', user: '' })).toMatchObject({ type: 'strata:error' });
      expect(await ask(page, { type: 'strata:explode' })).toMatchObject({ type: 'strata:error' });
      const path = unique('/api/fresh/');
      await fill(page, path);
      expect(await ask(page, { type: 'strata:purge', tags: [], keys: [path] })).toMatchObject({ evicted: 1 });
    });
  });

  it('a successful write evicts its write rules’ tags at once, before any purge arrives; a failed one evicts nothing', async () => {
    await session(async (page) => {
      const fresh = unique('/api/fresh/');
      const id = fresh.split('/').pop() as string;
      const swr = `/api/swr/${id}`;
      const other = unique('/api/fresh/');
      for (const path of [fresh, swr, other]) await fill(page, path);
      // The origin refuses the first write: nothing changed, nothing is evicted.
      server().api(`/api/write/${id}`).failWith = 409;
      expect((await get(page, `/api/write/${id}`, { method: 'PUT' })).status).toBe(409);
      expect(await hasEntry(page, fresh)).toBe(true);
      server().api(`/api/write/${id}`).failWith = undefined;
      // No purge stream is open here: the eviction is the worker's own, done before the page has the answer.
      expect((await get(page, `/api/write/${id}`, { method: 'PUT' })).status).toBe(200);
      expect(await hasEntry(page, fresh)).toBe(false);
      expect(await hasEntry(page, swr)).toBe(false);
      expect(await hasEntry(page, other)).toBe(true);
      expect((await get(page, fresh)).headers['cache-status']).toMatch(/strata-sw; fwd=uri-miss/);
    });
  });

  it('a successful POST to a cached URL invalidates it (RFC 9111 §4.4)', async () => {
    await session(async (page) => {
      const path = unique('/api/fresh/');
      await fill(page, path);
      expect((await get(page, path, { method: 'POST' })).status).toBe(200);
      expect(await hasEntry(page, path)).toBe(false);
      expect((await get(page, path)).headers['cache-status']).toMatch(/strata-sw; fwd=uri-miss/);
    });
  });
});

describe('soft purge in the Strata service worker in Chromium', () => {
  const softPurge = (page: Parameters<Parameters<typeof session>[0]>[0], tag: string) =>
    ask(page, { type: 'strata:purge', tags: [tag], keys: [], mode: 'soft' });

  it('serves the entry stale with a Cache-Status that says so while one revalidation runs, then fresh', async () => {
    await session(async (page) => {
      const path = unique('/api/swr/');
      const route = server().api(path);
      await fill(page, path);
      expect((await get(page, path)).headers['cache-status']).toMatch(/strata-sw; hit/);
      expect(await softPurge(page, `item:${path.split('/').pop()}`)).toMatchObject({ evicted: 1 });
      expect(await hasEntry(page, path)).toBe(true);

      route.version = 2;
      const held = route.hold();
      const stale = await get(page, path);
      expect(stale.body?.version).toBe(1);
      expect(stale.headers['cache-status']).toMatch(/strata-sw; fwd=stale; ttl=-\d+; detail=soft-purge$/);
      await held.arrived; // the one revalidation is at the origin
      const again = await get(page, path);
      expect(again.body?.version).toBe(1);
      expect(again.headers['cache-status']).toMatch(/detail=soft-purge$/);
      expect(route.hits).toBe(2); // the fill, and one revalidation for both stale answers
      held.release();
      await waitForStat(page, '/api/swr/:id', 'revalidated', 1);
      const fresh = await get(page, path);
      expect(fresh.body?.version).toBe(2);
      expect(fresh.headers['cache-status']).toMatch(/strata-sw; hit; ttl=\d+$/);
      expect(route.hits).toBe(2);
    });
  });

  /** A soft purge of an entry of `prefix`, the clock `seconds` on, and the next read: a miss. */
  const missAfterSoftPurge = (prefix: string, seconds: number) =>
    session(async (page) => {
      const path = unique(prefix);
      const route = server().api(path);
      await fill(page, path);
      await softPurge(page, `item:${path.split('/').pop()}`);
      if (seconds > 0) await advance(page, seconds);
      expect((await get(page, path)).headers['cache-status']).toMatch(/strata-sw; fwd=uri-miss/);
      expect(route.hits).toBe(2);
    });

  it('after the stale-while-revalidate window from the purge it is a miss', () => missAfterSoftPurge('/api/swr/', 121));

  it('a route without stale-while-revalidate treats a soft purge as hard', () => missAfterSoftPurge('/api/fresh/', 0));
});
