import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cdnCache, defineManifest } from '@strata/policy';
import { createStrata, type Strata, type StrataLogger } from '@strata/server';
import { strataExpress } from '@strata/server/express';
import { nodeListener } from '@strata/server/node';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// express.static and res.sendFile set `Cache-Control: public, max-age=0` on every file, and a
// handler's Cache-Control wins (respectHandlerCacheControl, default true): the manifest's policy
// is silently ignored. The logger is told, once per route. Real Express 5 on loopback.

const manifest = defineManifest({
  version: '1',
  routes: [
    { match: '/static/*', policy: cdnCache(7 * 86_400, { immutable: true }) },
    { match: '/page', policy: cdnCache(60) },
  ],
});

interface Warning {
  message: string;
  details: Record<string, unknown> | undefined;
}

let dir: string;
const running: { server: Server; strata: Strata }[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-static-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'a.js'), 'a');
  writeFileSync(join(dir, 'assets', 'b.js'), 'b');
  writeFileSync(join(dir, 'page.html'), '<p>page</p>');
});
afterEach(async () => {
  for (const { server, strata } of running.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await strata.close();
  }
  vi.restoreAllMocks();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: Server, strata: Strata): Promise<string> {
  running.push({ server, strata });
  if (!server.listening) await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An Express 5 app serving `dir` under /static with `staticOptions`, and /page with res.sendFile. */
async function expressApp(logger: StrataLogger | undefined, staticOptions: { cacheControl?: boolean } = {}) {
  const strata = createStrata({ manifest, ...(logger ? { logger } : {}) });
  const app = express();
  app.use(strataExpress(strata));
  app.use('/static', express.static(dir, staticOptions));
  app.get('/page', (_req, res) => res.sendFile(join(dir, 'page.html'), staticOptions));
  return listen(app.listen(0, '127.0.0.1'), strata);
}

const recorder = () => {
  const warnings: Warning[] = [];
  return {
    warnings,
    logger: { warn: (message: string, details?: Record<string, unknown>) => warnings.push({ message, details }) },
  };
};

const cacheControlOf = async (url: string) => {
  const res = await fetch(url);
  await res.arrayBuffer();
  expect(res.status).toBe(200);
  return res.headers.get('cache-control');
};

describe('a handler Cache-Control that overrides the manifest', () => {
  it('express.static: the handler still wins, and the logger is told once per route, with the fix', async () => {
    const { warnings, logger } = recorder();
    const base = await expressApp(logger);
    for (const file of ['a.js', 'b.js', 'a.js']) {
      expect(await cacheControlOf(`${base}/static/assets/${file}`)).toBe('public, max-age=0');
    }
    expect(await cacheControlOf(`${base}/page`)).toBe('public, max-age=0');
    expect(await cacheControlOf(`${base}/page`)).toBe('public, max-age=0');

    expect(warnings.map((w) => w.details?.route)).toEqual(['/static/*', '/page']);
    const [first] = warnings;
    expect(first?.message).toContain("route '/static/*'");
    expect(first?.message).toContain('respectHandlerCacheControl');
    expect(first?.message).toContain('express.static(dir, { cacheControl: false })');
    expect(first?.details).toEqual({
      route: '/static/*',
      handlerCacheControl: 'public, max-age=0',
      policyCacheControl: 'max-age=604800, immutable',
      option: 'respectHandlerCacheControl',
    });
  });

  it('express.static(dir, { cacheControl: false }): the manifest decides, nothing to report', async () => {
    const { warnings, logger } = recorder();
    const base = await expressApp(logger, { cacheControl: false });
    expect(await cacheControlOf(`${base}/static/assets/a.js`)).toBe('max-age=604800, immutable');
    expect(await cacheControlOf(`${base}/page`)).toBe('max-age=60');
    expect(warnings).toEqual([]);
  });

  it('without a logger, the report goes to console.warn', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = await expressApp(undefined);
    await cacheControlOf(`${base}/static/assets/a.js`);
    await cacheControlOf(`${base}/static/assets/b.js`);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("route '/static/*'");
  });
});

describe('other operational warnings go through the same logger', () => {
  it("nodeListener reports a failing handler to the instance's logger (its default onError)", async () => {
    const { warnings, logger } = recorder();
    const strata = createStrata({ manifest, logger });
    const failure = new Error('handler exploded');
    const base = await listen(
      createServer(
        nodeListener(strata, () => {
          throw failure;
        }),
      ).listen(0, '127.0.0.1'),
      strata,
    );
    const res = await fetch(`${base}/page`);
    expect(res.status).toBe(500);
    await res.arrayBuffer();
    expect(warnings).toEqual([{ message: 'Strata: the handler failed; answered 500', details: { error: failure } }]);
  });
});
