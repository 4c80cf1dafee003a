import { once } from 'node:events';
import { createServer, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeListener } from '@strata/server/node';
import { describe, expect, it } from 'vitest';
import { useListening } from '../helpers/use-listening.js';
import { strataFor } from '../origin.js';

/**
 * The URL the node adapter builds from Host (and, with `trustProxy`, X-Forwarded-Host/-Proto) on
 * a real HTTP server: the full path and the fast path for fresh hits must agree on it, since it is
 * the host part of the cache key.
 */
describe('the request origin through the node adapter', () => {
  const strata = strataFor();
  let calls = 0;
  const server = createServer(
    nodeListener(
      strata,
      (request) => {
        calls++;
        return new Response(JSON.stringify({ url: request.url }), { headers: { 'content-type': 'application/json' } });
      },
      { trustProxy: true },
    ),
  );
  const port = useListening(server, strata);

  /** A raw GET with exactly these header lines (an array value sends the field several times). */
  const send = (path: string, headers: OutgoingHttpHeaders) =>
    new Promise<{ status: number; cache: unknown; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: port(), path, method: 'GET', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['x-cache'], body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('keys by the forwarded scheme and host on the miss and on the fast-path hit', async () => {
    const forwarded = { host: 'inner.test', 'x-forwarded-host': 'Shop.Test, proxy.test', 'x-forwarded-proto': 'https' };
    const miss = await send('/api/users/7', forwarded);
    expect([miss.status, miss.cache, JSON.parse(miss.body)]).toEqual([
      200,
      'MISS',
      { url: 'https://shop.test/api/users/7' },
    ]);
    const hit = await send('/api/users/7', forwarded);
    expect([hit.cache, JSON.parse(hit.body)]).toEqual(['HIT', { url: 'https://shop.test/api/users/7' }]);
    // Another forwarded host is another key: a miss, not shop.test's entry.
    const other = await send('/api/users/7', { ...forwarded, 'x-forwarded-host': 'other.test' });
    expect([other.cache, JSON.parse(other.body)]).toEqual(['MISS', { url: 'https://other.test/api/users/7' }]);
    expect(calls).toBe(2);
  });

  it('a partition that throws on the fast path leaves the request to the full path, which answers 500', async () => {
    const failing = strataFor({
      partition: (request) => {
        if (request.headers.get('authorization') === 'boom') throw new Error('session store down');
        return request.headers.get('authorization') ?? undefined;
      },
    });
    const reported: unknown[] = [];
    const inner = createServer(
      nodeListener(failing, () => new Response('mine'), { onError: (error) => reported.push(error) }),
    );
    inner.listen(0, '127.0.0.1');
    await once(inner, 'listening');
    const innerPort = (inner.address() as AddressInfo).port;
    try {
      const ask = (authorization: string) =>
        fetch(`http://127.0.0.1:${innerPort}/api/me`, { headers: { authorization } });
      expect((await ask('alice')).headers.get('x-cache')).toBe('MISS');
      expect((await ask('alice')).headers.get('x-cache')).toBe('HIT');
      const boom = await ask('boom');
      expect(boom.status).toBe(500);
      expect(await boom.text()).not.toContain('mine');
      expect(reported).toHaveLength(1);
    } finally {
      inner.closeAllConnections();
      inner.close();
      await failing.close();
    }
  });

  it('without trustProxy, keys by the Host line, asked again and again, and refuses an invalid one every time', async () => {
    const direct = strataFor();
    const urls: string[] = [];
    const inner = createServer(
      nodeListener(direct, (request) => {
        urls.push(request.url);
        return new Response('ok');
      }),
    );
    inner.listen(0, '127.0.0.1');
    await once(inner, 'listening');
    const innerPort = (inner.address() as AddressInfo).port;
    const ask = (host: string) =>
      new Promise<{ status: number; cache: unknown }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: innerPort, path: '/api/users/9', headers: { host } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['x-cache'] }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      const seen = [];
      for (const host of ['Shop.Test:8080', 'Shop.Test:8080', 'other.test', 'Shop.Test:8080', ', first.test']) {
        seen.push(await ask(host));
      }
      expect(seen.map((answer) => answer.cache)).toEqual(['MISS', 'HIT', 'MISS', 'HIT', 'MISS']);
      expect(urls).toEqual([
        'http://shop.test:8080/api/users/9',
        'http://other.test/api/users/9',
        // An empty first value names no host: the default, as before any line was seen.
        'http://localhost/api/users/9',
      ]);
      for (let i = 0; i < 2; i++) expect((await ask('bad host')).status).toBe(400);
    } finally {
      inner.closeAllConnections();
      inner.close();
      await direct.close();
    }
  });

  it('answers 400 to a Host that is not one, on every path', async () => {
    for (const host of ['bad host', 'a@b.test']) {
      const response = await send('/api/users/8', { host: 'x.test', 'x-forwarded-host': host });
      expect(response.status, host).toBe(400);
    }
  });
});
