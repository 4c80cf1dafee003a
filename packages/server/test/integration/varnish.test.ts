import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cdnCache, defineManifest, headersFor } from '@strata/policy';
import { createStrata } from '@strata/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeAll, withRetry } from '../../src/cdn/retry.js';
import type { PurgerReport } from '../../src/cdn/types.js';
import { varnishPurger } from '../../src/cdn/varnish.js';
import { useVarnish } from '../helpers/use-services.js';

/** A loopback HTTP server: `handler` answers, `requests` records method, headers and arrival time. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: { method: string; url: string; headers: IncomingMessage['headers']; at: number }[] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, at: Date.now() });
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The origin behind Varnish: every path answers with the headers `@strata/policy` gives a CDN
 * policy (`cdn-cache-control`, `surrogate-key`…) for the tags the test registered for it, and
 * counts its hits, so a test can tell a Varnish hit (count unchanged) from a miss.
 */
const tagsByPath = new Map<string, string[]>();
const hits = new Map<string, number>();
let origin: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  origin = await listen((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    res.writeHead(200, {
      'content-type': 'text/plain',
      ...headersFor(cdnCache(300), { tags: tagsByPath.get(path) ?? [] }),
    });
    res.end(`${path} #${n}`);
  });
});
afterAll(async () => {
  await origin?.close();
});

const varnish = useVarnish(() => origin.port);

const originHits = (path: string) => hits.get(path) ?? 0;

async function get(path: string) {
  const response = await fetch(`${varnish().url}${path}`);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** Registers `path` with its tags and gets it cached: one miss, then a hit that the origin never sees. */
async function cache(path: string, tags: string[]) {
  tagsByPath.set(path, tags);
  await get(path);
  const before = originHits(path);
  const second = await get(path);
  expect(second.headers.get('x-cache')).toBe('HIT');
  expect(originHits(path)).toBe(before);
}

/** Whether Varnish still serves `path` from cache; a miss refills it, as any request would. */
async function isCached(path: string): Promise<boolean> {
  const before = originHits(path);
  await get(path);
  return originHits(path) === before;
}

describe('varnishPurger against a real varnishd with xkey', () => {
  it('Varnish caches an origin response with its xkey: the second request is a hit', async () => {
    tagsByPath.set('/users/10', ['user:10', 'users']);
    const first = await get('/users/10');
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('surrogate-key')).toBe('user:10 users');
    const second = await get('/users/10');
    expect(second.body).toBe(first.body);
    expect(originHits('/users/10')).toBe(1);
    expect(second.headers.get('x-cache')).toBe('HIT');
    // X-Varnish holds this request's id and, on a hit, the id of the request that stored the object.
    expect(second.headers.get('x-varnish')?.split(' ')).toHaveLength(2);
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0);
  });

  it('a tag purge drops every object carrying the tag, keeps the others, and reports the count', async () => {
    await cache('/users/1', ['user:1', 'users']);
    await cache('/users/1/posts', ['user:1', 'posts']);
    await cache('/users/2', ['user:2', 'users']);
    const purged = await varnishPurger({ url: varnish().url }).purge({ tags: ['user:1'], urls: [] });
    expect(purged).toBe(2);
    expect(await isCached('/users/1')).toBe(false);
    expect(await isCached('/users/1/posts')).toBe(false);
    expect(await isCached('/users/2')).toBe(true);
  });

  it('many long tags are split across requests that Varnish accepts, and all purge', async () => {
    const paths = Array.from({ length: 40 }, (_, i) => `/bulk/${i}`);
    const tagOf = (i: number) => `bulk:${i}:${'x'.repeat(500)}`;
    for (const [i, path] of paths.entries()) await cache(path, [tagOf(i)]);
    const tags = paths.map((_, i) => tagOf(i)); // ≈ 20 KB of tags: more than one 8 KB header line holds
    const tooLong = varnishPurger({ url: varnish().url, maxHeaderBytes: 64 * 1024 });
    await expect(tooLong.purge({ tags, urls: [] })).rejects.toThrow(
      /varnish tag purge \(request 1 of 1\) failed: HTTP 400/,
    );
    expect(await varnishPurger({ url: varnish().url }).purge({ tags, urls: [] })).toBe(40);
    for (const path of paths) expect(await isCached(path)).toBe(false);
  });

  it('a URL purge drops that URL (matched on Host and path) and nothing else', async () => {
    await cache('/pages/a?lang=en', ['pages']);
    await cache('/pages/b', ['pages']);
    const purger = varnishPurger({ url: varnish().url });
    // The public URL as clients request it; fetch sent Host 127.0.0.1:<port>.
    expect(await purger.purge({ tags: [], urls: [`${varnish().url}/pages/a?lang=en`] })).toBe(1);
    expect(await purger.purge({ tags: [], urls: ['http://other.example/pages/b'] })).toBe(0);
    expect(await isCached('/pages/a?lang=en')).toBe(false);
    expect(await isCached('/pages/b')).toBe(true);
  });

  it('purging a tag that nothing carries reports 0', async () => {
    await cache('/users/3', ['user:3']);
    expect(await varnishPurger({ url: varnish().url }).purge({ tags: ['user:404'], urls: [] })).toBe(0);
    expect(await isCached('/users/3')).toBe(true);
  });

  it('a soft purge expires the object: it is served stale once while Varnish refetches it', async () => {
    await cache('/soft', ['soft']);
    const before = originHits('/soft');
    expect(await varnishPurger({ url: varnish().url, soft: true }).purge({ tags: ['soft'], urls: [] })).toBe(1);
    const stale = await get('/soft');
    expect(stale.body).toBe(`/soft #${before}`); // grace: the old object, at once
    await expect.poll(() => originHits('/soft'), { timeout: 5_000, interval: 20 }).toBe(before + 1);
  });

  it('`all` bans every object', async () => {
    await cache('/everything/1', ['e1']);
    await cache('/everything/2', ['e2']);
    expect(await varnishPurger({ url: varnish().url }).purge({ tags: [], urls: [], all: true })).toBeUndefined();
    expect(await isCached('/everything/1')).toBe(false);
    expect(await isCached('/everything/2')).toBe(false);
  });

  it('through withRetry: one attempt, ok, with the count', async () => {
    await cache('/users/4', ['user:4']);
    const reports: PurgerReport[] = [];
    const purger = withRetry(varnishPurger({ url: varnish().url }), { onReport: (r) => reports.push(r) });
    const report = await purger.purge({ tags: ['user:4'], urls: [] });
    expect(report).toEqual({ purger: 'varnish', ok: true, attempts: 1, purged: 1 });
    expect(reports).toEqual([report]);
  });
});

describe('withRetry around varnishPurger (loopback servers standing in for a failing Varnish)', () => {
  const fast = { baseDelayMs: 5, maxDelayMs: 50 };

  it('a dead port: ok false after the configured attempts, never throws', async () => {
    const dead = await listen(() => {});
    await dead.close(); // the port was just free and nothing listens on it now
    const purger = withRetry(varnishPurger({ url: dead.url }), { ...fast, attempts: 3 });
    const report = await purger.purge({ tags: ['user:1'], urls: [] });
    expect(report).toMatchObject({ purger: 'varnish', ok: false, attempts: 3 });
    expect(report.error).toMatch(/varnish tag purge .*failed.*ECONNREFUSED/);
  });

  it('503 twice, then 200: succeeds on attempt 3 with the count', async () => {
    let calls = 0;
    const flaky = await listen((_req, res) => {
      calls++;
      if (calls <= 2) res.writeHead(503, 'Backend fetch failed').end();
      else res.writeHead(200, { 'xkey-purged': '3' }).end();
    });
    try {
      const report = await withRetry(varnishPurger({ url: flaky.url }), fast).purge({ tags: ['a'], urls: [] });
      expect(report).toEqual({ purger: 'varnish', ok: true, attempts: 3, purged: 3 });
      expect(flaky.requests.map((r) => r.headers['xkey-purge'])).toEqual(['a', 'a', 'a']);
    } finally {
      await flaky.close();
    }
  });

  it('a 400 is not retried, and its plain-text reason is reported', async () => {
    const refusing = await listen((_req, res) => {
      res.writeHead(400, 'Bad Request', { 'content-type': 'text/plain' }).end('no such header');
    });
    try {
      const report = await withRetry(varnishPurger({ url: refusing.url }), fast).purge({ tags: ['a'], urls: [] });
      expect(report).toMatchObject({ ok: false, attempts: 1 });
      expect(report.error).toBe('varnish tag purge (request 1 of 1) failed: HTTP 400 Bad Request: no such header');
      expect(refusing.requests).toHaveLength(1);
    } finally {
      await refusing.close();
    }
  });

  it('429 with Retry-After: the next attempt waits as long as asked', async () => {
    const limited = await listen((_req, res) => {
      if (limited.requests.length === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200, { 'xkey-purged': '0' }).end();
    });
    try {
      const purger = withRetry(varnishPurger({ url: limited.url }), { baseDelayMs: 1, maxDelayMs: 2_000 });
      const report = await purger.purge({ tags: ['a'], urls: [] });
      expect(report).toEqual({ purger: 'varnish', ok: true, attempts: 2, purged: 0 });
      const [first, second] = limited.requests;
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(990);
    } finally {
      await limited.close();
    }
  });

  it('a Retry-After beyond maxDelayMs ends the retries at once, with the reason', async () => {
    const limited = await listen((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end());
    try {
      const report = await withRetry(varnishPurger({ url: limited.url }), fast).purge({ tags: ['a'], urls: [] });
      expect(report).toMatchObject({ ok: false, attempts: 1 });
      expect(report.error).toMatch(/HTTP 429 .*Retry-After asks for 120 s, beyond maxDelayMs/);
    } finally {
      await limited.close();
    }
  });

  it('purgeAll runs the purgers in parallel and resolves to every report', async () => {
    const slow = await listen((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'xkey-purged': '1' }).end(), 300);
    });
    const broken = await listen((_req, res) => {
      setTimeout(() => res.writeHead(500).end(), 300);
    });
    try {
      const started = Date.now();
      const reports = await purgeAll(
        [
          withRetry(varnishPurger({ url: slow.url, name: 'edge-a' }), fast),
          withRetry(varnishPurger({ url: broken.url, name: 'edge-b' }), { ...fast, attempts: 1 }),
        ],
        { tags: ['a'], urls: [] },
      );
      expect(Date.now() - started).toBeLessThan(550); // one 300 ms wait, not two after each other
      expect(reports).toEqual([
        { purger: 'edge-a', ok: true, attempts: 1, purged: 1 },
        {
          purger: 'edge-b',
          ok: false,
          attempts: 1,
          error: 'edge-b tag purge (request 1 of 1) failed: HTTP 500 Internal Server Error',
        },
      ]);
    } finally {
      await Promise.all([slow.close(), broken.close()]);
    }
  });
});

/** An instance whose purges reach the test's Varnish (a CDN policy on every path). */
const strataWithVarnish = () =>
  createStrata({
    manifest: defineManifest({ version: 1, routes: [{ match: '/*', policy: cdnCache(300) }] }),
    cdn: [varnishPurger({ url: varnish().url })],
  });

describe('strata.purge reaching a real Varnish', () => {
  it('strata.purge({ mode: soft }) soft-purges in Varnish: the object is served stale once while Varnish refetches it', async () => {
    const strata = strataWithVarnish();
    try {
      await cache('/through-strata/soft', ['product:soft']);
      const before = originHits('/through-strata/soft');
      await strata.purge({ tags: ['product:soft'], mode: 'soft' });
      await expect.poll(async () => (await strata.stats()).cdn.length).toBe(1);
      expect((await strata.stats()).cdn[0]).toMatchObject({ purger: 'varnish', ok: true, purged: 1 });
      // Still in Varnish, expired: the old object at once (grace), and one fetch in the background.
      const stale = await get('/through-strata/soft');
      expect(stale.body).toBe(`/through-strata/soft #${before}`);
      expect(stale.headers.get('x-cache')).toBe('STALE');
      await expect.poll(() => originHits('/through-strata/soft'), { timeout: 5_000, interval: 20 }).toBe(before + 1);
      await expect
        .poll(async () => (await get('/through-strata/soft')).body)
        .toBe(`/through-strata/soft #${before + 1}`);
      expect(originHits('/through-strata/soft')).toBe(before + 1);
      // A hard purge of the same tag drops it: the next request is a miss.
      await strata.purge({ tags: ['product:soft'] });
      await expect.poll(async () => (await strata.stats()).cdn.length).toBe(2);
      expect(await isCached('/through-strata/soft')).toBe(false);
    } finally {
      await strata.close();
    }
  });

  it('an object Varnish cached with its xkey is gone after strata.purge of that tag; others stay', async () => {
    const strata = strataWithVarnish();
    try {
      await cache('/through-strata/a', ['product:a']);
      await cache('/through-strata/b', ['product:b']);
      await strata.purge({ tags: ['product:a'] });
      // The CDN purge runs in the background (retried, never thrown): wait for its report.
      await expect.poll(async () => (await strata.stats()).cdn.length).toBe(1);
      expect((await strata.stats()).cdn[0]).toMatchObject({ purger: 'varnish', ok: true, purged: 1 });
      expect(await isCached('/through-strata/a')).toBe(false);
      expect(await isCached('/through-strata/b')).toBe(true);
    } finally {
      await strata.close();
    }
  });
});
