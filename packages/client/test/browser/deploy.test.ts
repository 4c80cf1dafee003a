import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyUpdate,
  buildClient,
  countLoads,
  deploy,
  type Files,
  host,
  launchChromium,
  loadRoute,
  seenOf,
  startClient,
  switchTabs,
  updateWorker,
  waitForActivated,
  waitForEvent,
} from './helpers.js';

// A deploy while two tabs of the previous one are open, with the real worker the Vite plugin builds
// (precache on) and the real client: the host no longer has the previous deploy's files, so a tab
// of it that lazily loads a route gets the chunk from that deploy's precache or fails.

describe('a deploy with two tabs open, in Chromium', () => {
  let browser: Browser;
  let client: string;
  let auto: Files[];
  let prompt: Files[];
  const site = host();

  beforeAll(async () => {
    [browser, client, auto, prompt] = await Promise.all([
      launchChromium(),
      buildClient(),
      Promise.all([deploy('A'), deploy('B')]),
      Promise.all([deploy('A', { skipWaiting: false }), deploy('B', { skipWaiting: false })]),
      site.listen(),
    ]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await site.close();
  });

  /** The URLs of the app's chunks that failed to load in `page` (the purge stream, absent here, aside). */
  function failedChunks(page: Page): string[] {
    const failed: string[] = [];
    page.on('requestfailed', (request) => failed.push(request.url()));
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(response.url());
    });
    return failed;
  }
  const chunksOf = (failed: string[]) => failed.filter((url) => !url.endsWith('/strata/events'));

  /** Opens the app (the deploy served now) and starts the client in it. */
  async function openTab(context: BrowserContext, updates: 'auto' | 'prompt'): Promise<Page> {
    const page = await context.newPage();
    await page.goto(site.url);
    await page.addScriptTag({ content: client });
    await startClient(page, updates);
    return page;
  }

  /**
   * Opens two tabs of deploy A, then deploys B and has the browser find its worker. Once each tab
   * is told (`update` in automatic mode, `waiting` in prompt mode), the second tab, still running
   * A's build, lazily loads its route; then `after` runs. No tab may have failed to load a chunk.
   */
  async function deployWithTabs(
    [a, b]: Files[],
    updates: 'auto' | 'prompt',
    after: (tabs: Page[], loads: number[]) => Promise<void> = async () => {},
  ): Promise<void> {
    site.files = a as Files;
    const context = await browser.newContext();
    try {
      const tabs = [await openTab(context, updates), await openTab(context, updates)];
      const failed = tabs.map(failedChunks);
      const loads = countLoads(tabs);
      site.files = b as Files; // A's files are gone from the host
      await updateWorker(tabs[0] as Page);
      const told = updates === 'auto' ? 'update' : 'waiting';
      for (const tab of tabs) await waitForEvent(tab, told);
      // Whichever worker controls the tabs now has finished activating (B's retired no deploy still open).
      await waitForActivated(tabs[1] as Page);
      expect(await loadRoute(tabs[1] as Page)).toBe('lazy route of deploy A');
      for (const tab of tabs) {
        expect(await seenOf(tab, 'update')).toBe(updates === 'auto' ? 1 : 0);
        expect(await seenOf(tab, 'waiting')).toBe(updates === 'auto' ? 0 : 1);
      }
      expect(loads).toEqual([0, 0]); // automatic: switched without a reload; prompt: not until asked
      await after(tabs, loads);
      expect(failed.map(chunksOf)).toEqual([[], []]);
    } finally {
      await context.close();
    }
  }

  it("automatic updates: B's worker takes over both tabs, each told once, none reloaded; the A tab loads its lazy route from A's precache", async () => {
    await deployWithTabs(auto, 'auto');
  }, 60_000);

  it("prompt updates: both tabs told once of B's waiting worker while the A tab loads its lazy route; applyUpdate reloads each tab once, into B", async () => {
    await deployWithTabs(prompt, 'prompt', async (tabs, loads) => {
      expect(await switchTabs(tabs, tabs[0] as Page)).toBe(true);
      for (const tab of tabs) {
        await tab.addScriptTag({ content: client });
        await startClient(tab, 'prompt');
        expect(await loadRoute(tab)).toBe('lazy route of deploy B');
        expect(await seenOf(tab, 'waiting')).toBe(0);
        expect(await applyUpdate(tab)).toBe(false);
      }
      expect(loads).toEqual([1, 1]); // one reload each, and no loop
    });
  }, 60_000);
});
