import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../../server/test/helpers/redis-server.js';
import { run } from '../../src/cli.js';

// `strata proxy` as an operator runs it: flags and environment, a real Redis, the worker built
// from the manifest file, stopped by its signal.

const manifest = new URL('../fixtures/items.manifest.json', import.meta.url).pathname;

describe('the strata proxy command', () => {
  let redis: RedisServer;
  let upstream: Server;
  let origin = '';
  let hits = 0;

  beforeAll(async () => {
    redis = await startRedisServer();
    upstream = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits }));
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
    origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    upstream?.closeAllConnections();
    upstream?.close();
    await redis?.stop();
  });

  it('serves the worker built from the manifest, caches in Redis, and exits 0 on its stop signal', async () => {
    const stop = new AbortController();
    const out: string[] = [];
    let listening!: (url: string) => void;
    const url = new Promise<string>((resolve) => {
      listening = resolve;
    });
    const exited = run(['--manifest', manifest, '--port', '0', '--host', '127.0.0.1'], {
      env: { STRATA_UPSTREAM: origin, REDIS_URL: redis.url },
      io: { out: (s) => out.push(s), err: (s) => out.push(s) },
      signal: stop.signal,
      onListening: listening,
    });
    const base = await Promise.race([url, exited.then((code) => Promise.reject(new Error(`exited ${code}: ${out}`)))]);
    try {
      expect(out.join('\n')).toContain(`in front of ${origin}`);
      const worker = await fetch(`${base}/sw.js`);
      expect(worker.headers.get('cache-control')).toBe('no-store');
      // The manifest is inlined in the worker.
      expect(await worker.text()).toContain('items-1');

      const first = await fetch(`${base}/api/items`);
      expect(await first.json()).toEqual({ hits: 1 });
      const second = await fetch(`${base}/api/items`);
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(await second.json()).toEqual({ hits: 1 });
      expect(hits).toBe(1);
    } finally {
      stop.abort();
    }
    expect(await exited).toBe(0);
  });

  it('exits 1 naming the problem when it cannot listen', async () => {
    const port = (upstream.address() as AddressInfo).port; // taken
    const err: string[] = [];
    const code = await run(['-m', manifest, '-u', origin, '--sw', 'off', '--host', '127.0.0.1', '-p', String(port)], {
      env: {},
      io: { out: () => {}, err: (s) => err.push(s) },
    });
    expect(code).toBe(1);
    expect(err.join('\n')).toContain('EADDRINUSE');
  });
});
