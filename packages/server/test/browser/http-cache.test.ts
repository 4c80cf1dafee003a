import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { browserCache, defineManifest, serverCache } from '@strata/policy';
import { createStrata, memoryStore } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, launchChromium } from '../../../sw/test/browser/helpers/browser.js';

/**
 * Chromium's own HTTP cache with no service worker (blocked), against a real server: the cache
 * every user of that browser shares (RFC 9111 §4.1). A private answer must never reach a request
 * made with another user's credentials.
 */
describe('private answers in Chromium’s HTTP cache, workers blocked', () => {
  const manifest = defineManifest({
    version: 1,
    routes: [
      { match: '/api/me', policy: serverCache(60, { scope: 'private' }) },
      { match: '/api/settings', policy: browserCache(300, { scope: 'private' }) },
    ],
  });
  const strata = createStrata({
    manifest,
    store: memoryStore(),
    partition: (request) => request.headers.get('authorization') ?? undefined,
  });
  const origin = { calls: 0 };
  const server = createServer(
    nodeListener(strata, (request) => {
      const path = new URL(request.url).pathname;
      if (!path.startsWith('/api/')) {
        return new Response('<!doctype html><title>t</title>', { headers: { 'content-type': 'text/html' } });
      }
      origin.calls++;
      return Response.json({ path, user: request.headers.get('authorization') ?? request.headers.get('cookie') });
    }),
  );
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    browser = await launchChromium();
    context = await browser.newContext({ serviceWorkers: 'block' });
    page = await context.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  afterAll(async () => {
    await browser?.close();
    server.close();
    await strata.close();
  });

  it.each(['/api/me', '/api/settings'])('%s fetched as alice, then as bob: bob gets his own answer', async (path) => {
    const alice = await get(page, path, { headers: { authorization: 'Bearer alice' } });
    expect(alice.body).toEqual({ path, user: 'Bearer alice' });
    expect(alice.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    const before = origin.calls;
    const bob = await get(page, path, { headers: { authorization: 'Bearer bob' } });
    expect(bob.body).toEqual({ path, user: 'Bearer bob' });
    expect(origin.calls).toBe(before + 1);
    // And alice, after bob, gets hers again (Chromium keeps one entry per URL: no mixing either way).
    const again = await get(page, path, { headers: { authorization: 'Bearer alice' } });
    expect(again.body).toEqual({ path, user: 'Bearer alice' });
  });

  it('a cookie session: the answer fetched with alice’s cookie never reaches bob’s', async () => {
    const setCookie = (value: string) =>
      page.evaluate((v) => {
        (globalThis as unknown as { document: { cookie: string } }).document.cookie = v;
      }, value);
    await setCookie('sid=alice');
    expect((await get(page, '/api/settings?c=1')).body).toEqual({ path: '/api/settings', user: 'sid=alice' });
    await setCookie('sid=bob');
    expect((await get(page, '/api/settings?c=1')).body).toEqual({ path: '/api/settings', user: 'sid=bob' });
  });
});
