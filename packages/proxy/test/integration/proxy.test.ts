import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { defineManifest, noStore, serverCache } from '@strata/policy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxy, type StrataProxy } from '../../src/index.js';

// A proxy on a real server in front of a real upstream that knows nothing of Strata: no cache
// headers, no purges, no tags. Everything the proxy adds, it adds from the manifest.

const TOKEN = 'proxy-test-admin-token';

const manifest = defineManifest({
  version: 1,
  routes: [
    { match: '/api/items', policy: serverCache(60, { tags: ['items'], staleIfError: 600 }) },
    { match: '/api/items/:id', policy: serverCache(60, { tags: ['item:{id}'] }) },
    { match: '/api/fragile', policy: serverCache(60) },
    { match: '/echo/stored', policy: serverCache(60) },
    { match: '/silent/stored', policy: serverCache(60) },
    { match: '/sw.js', policy: noStore() },
  ],
});

/** The origin: counts what reaches it, echoes what it was sent, and can stall, fail or die. */
class Upstream {
  readonly hits = new Map<string, number>();
  /** Set by /stream after its first chunk; the test releases the rest. */
  releaseStream: (() => void) | undefined;
  failing = false;
  private server: Server | undefined;
  port = 0;

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] as string;
    this.hits.set(path, this.count(path) + 1);
    if (this.failing) {
      res.writeHead(503).end('down for maintenance');
      return;
    }
    if (path === '/echo' || path === '/echo/stored') {
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'x-upstream-secret',
        'x-upstream-secret': 'for this hop only',
        'proxy-authenticate': 'Basic realm="upstream"',
        'x-kept': 'end to end',
      });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.rawHeaders }));
      return;
    }
    if (path === '/upload') {
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
      });
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })));
      return;
    }
    if (path === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk;');
      this.releaseStream = () => res.end('second chunk');
      return;
    }
    if (path === '/cut') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('the first 20 bytes..');
      setImmediate(() => res.destroy());
      return;
    }
    if (path === '/gzip') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(gzipSync('compressed at the origin'));
      return;
    }
    if (path === '/silent' || path === '/silent/stored') return; // never answers
    if (path.startsWith('/api/items') && req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path, version: this.count(path) }));
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.releaseStream?.();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

async function listen(proxy: StrataProxy): Promise<{ server: Server; base: string }> {
  const server = createServer(proxy.listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A raw HTTP/1.1 request, so hop-by-hop fields fetch would refuse can be sent. */
function rawGet(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The fields the origin received, from /echo's rawHeaders: repeated field lines combined with
 * ", ", which is what they mean (RFC 9110 §5.3), however the proxy split them.
 */
function received(body: string): Map<string, string> {
  const raw = (JSON.parse(body) as { headers: string[] }).headers;
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const before = fields.get(name);
    fields.set(name, before === undefined ? (raw[i + 1] as string) : `${before}, ${raw[i + 1]}`);
  }
  return fields;
}

describe('strata proxy in front of an origin that knows nothing of Strata', () => {
  const upstream = new Upstream();
  let clock = Date.parse('2030-01-01T00:00:00Z');
  let proxy: StrataProxy;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    await upstream.start();
    proxy = createProxy({
      manifest,
      upstream: `http://127.0.0.1:${upstream.port}`,
      adminToken: TOKEN,
      serviceWorker: 'self.worker = "built from the manifest";',
      upstreamTimeoutMs: 500,
      strata: { now: () => clock },
    });
    ({ server, base } = await listen(proxy));
  });

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await proxy?.close();
    await upstream.stop();
  });

  it('a cacheable GET is a miss, then a hit the origin never sees, with the manifest headers', async () => {
    const first = await fetch(`${base}/api/items?page=1`);
    const body = await first.text();
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('cache-control')).toMatch(/max-age=60/);
    expect(first.headers.get('cache-status')).toBe('strata; fwd=uri-miss; fwd-status=200; stored');
    const second = await fetch(`${base}/api/items?page=1`);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(await second.text()).toBe(body);
    expect(upstream.count('/api/items')).toBe(1);
  });

  it('a route the manifest does not cache passes through every time', async () => {
    const before = upstream.count('/elsewhere');
    await (await fetch(`${base}/elsewhere`)).text();
    await (await fetch(`${base}/elsewhere`)).text();
    expect(upstream.count('/elsewhere')).toBe(before + 2);
  });

  it.each([
    ['passed through', '/echo'],
    ['for the server cache', '/echo/stored'],
  ])('drops hop-by-hop fields both ways, and sets Via and the forwarding fields for this hop (%s)', async (_, path) => {
    const sent = await rawGet(base, `${path}?x=1`, {
      connection: 'keep-alive, x-client-secret',
      'x-client-secret': 'for this hop only',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
      'x-forwarded-for': '203.0.113.66',
      forwarded: 'for=203.0.113.66',
      via: '1.1 client-side-proxy',
      'x-kept': 'end to end',
    });
    expect(sent.status).toBe(200);
    const fields = received(sent.body);
    for (const name of ['x-client-secret', 'keep-alive', 'te', 'proxy-authorization'])
      expect(fields.has(name), name).toBe(false);
    expect(fields.get('x-kept')).toBe('end to end');
    // The client's own claims are not forwarded: any client could send them.
    expect(fields.get('x-forwarded-for')).toBe('127.0.0.1');
    expect(fields.get('forwarded')).toBe(`for=127.0.0.1;host="127.0.0.1:${new URL(base).port}";proto=http`);
    expect(fields.get('x-forwarded-host')).toBe(new URL(base).host);
    expect(fields.get('x-forwarded-proto')).toBe('http');
    // Via is a list: earlier hops stay, this one is appended.
    expect(fields.get('via')).toBe('1.1 client-side-proxy, 1.1 strata');
    expect(fields.get('host')).toBe(`127.0.0.1:${upstream.port}`);

    const answer = await fetch(`${base}${path}?x=2`);
    expect(answer.headers.get('x-upstream-secret')).toBeNull();
    expect(answer.headers.get('proxy-authenticate')).toBeNull();
    expect(answer.headers.get('x-kept')).toBe('end to end');
    expect(answer.headers.get('via')).toBe('1.1 strata');
  });

  it('asks the origin for the identity coding where the server cache keeps one answer for every client', async () => {
    const stored = received(
      await (await fetch(`${base}/echo/stored`, { headers: { 'accept-encoding': 'gzip' } })).text(),
    );
    expect(stored.get('accept-encoding')).toBe('identity');
    const passed = received(await (await fetch(`${base}/echo`, { headers: { 'accept-encoding': 'gzip' } })).text());
    expect(passed.get('accept-encoding')).toBe('gzip');
  });

  it('streams a response body: the first chunk arrives while the origin is still writing', async () => {
    const response = await fetch(`${base}/stream`);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe('first chunk;');
    expect(upstream.releaseStream).toBeDefined();
    upstream.releaseStream?.();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value);
    expect(rest).toBe('second chunk');
  });

  it('an origin that fails midway through a body cuts the client’s response: never a complete-looking one', async () => {
    const response = await fetch(`${base}/cut`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('streams a request body through to the origin', async () => {
    const size = 3 * 1024 * 1024;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        const chunk = new Uint8Array(64 * 1024).fill(7);
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${base}/upload`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ bytes: size });
  });

  it('passes a compressed body through as the origin encoded it', async () => {
    const raw = await rawGet(base, '/gzip', { 'accept-encoding': 'gzip' });
    expect(raw.status).toBe(200);
    const response = await fetch(`${base}/gzip`);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(await response.text()).toBe('compressed at the origin');
  });

  it('serves the worker built from the manifest, with the manifest policy, not the origin', async () => {
    const before = upstream.count('/sw.js');
    const response = await fetch(`${base}/sw.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toContain('built from the manifest');
    const head = await fetch(`${base}/sw.js`, { method: 'HEAD' });
    expect(head.headers.get('content-type')).toMatch(/javascript/);
    expect(upstream.count('/sw.js')).toBe(before);
  });

  it('a write through the proxy reaches the origin and invalidates the cached GET of its URL', async () => {
    await (await fetch(`${base}/api/items/7`)).text();
    expect((await fetch(`${base}/api/items/7`)).headers.get('x-cache')).toBe('HIT');
    const write = await fetch(`${base}/api/items/7`, { method: 'PUT', body: '{}' });
    expect(write.status).toBe(204);
    expect((await fetch(`${base}/api/items/7`)).headers.get('x-cache')).toBe('MISS');
    expect(upstream.count('/api/items/7')).toBe(3);
  });

  it('the admin API purges by tag, the purge stream carries it, and the next GET goes to the origin', async () => {
    await (await fetch(`${base}/api/items?page=purge`)).text();
    const controller = new AbortController();
    const stream = await fetch(`${base}/strata/events`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value);
    };
    await readUntil('event: position');

    const unauthorized = await fetch(`${base}/api/v1/cache/invalidate`, { method: 'POST', body: '{}' });
    expect(unauthorized.status).toBe(401);
    const purge = await fetch(`${base}/api/v1/cache/invalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tags: ['items'] }),
    });
    expect(purge.status).toBe(202);
    await readUntil('"items"');
    controller.abort();
    expect((await fetch(`${base}/api/items?page=purge`)).headers.get('x-cache')).toBe('MISS');

    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await metrics.text()).toContain('strata_cache_lookups_total{route="/api/items"');
  });

  it('an origin failing within staleIfError gets the stale copy; without a window, its 5xx passes through', async () => {
    const first = await fetch(`${base}/api/items?page=stale`);
    const body = await first.text();
    await (await fetch(`${base}/api/fragile`)).text();
    clock += 61_000;
    upstream.failing = true;
    try {
      const stale = await fetch(`${base}/api/items?page=stale`);
      expect(stale.status).toBe(200);
      expect(stale.headers.get('x-cache')).toBe('STALE');
      expect(await stale.text()).toBe(body);
      const fragile = await fetch(`${base}/api/fragile`);
      expect(fragile.status).toBe(503);
      expect(fragile.headers.get('cache-control')).toMatch(/no-store/);
    } finally {
      upstream.failing = false;
    }
  });

  it.each([
    ['passed through', '/silent'],
    ['for the server cache', '/silent/stored'],
  ])('an upstream that does not answer in time (%s) is a 504 naming E_UPSTREAM_TIMEOUT', async (_, path) => {
    const response = await fetch(`${base}${path}`);
    expect(response.status).toBe(504);
    expect(response.headers.get('proxy-status')).toBe('strata; error=http_response_timeout');
    expect(await response.json()).toMatchObject({ error: { code: 'E_UPSTREAM_TIMEOUT' } });
  });
});

describe('strata proxy behind a trusted proxy, on IPv6 loopback', () => {
  const upstream = new Upstream();
  let proxy: StrataProxy;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    await upstream.start();
    proxy = createProxy({ manifest, upstream: `http://127.0.0.1:${upstream.port}`, trustForwarded: true });
    server = createServer(proxy.listener);
    server.listen(0, '::1');
    await once(server, 'listening');
    base = `http://[::1]:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await proxy?.close();
    await upstream.stop();
  });

  it('appends its element to the trusted forwarding fields and keeps the first hop’s host and scheme', async () => {
    const sent = await rawGet(base, '/echo', {
      forwarded: 'for=203.0.113.7;host=shop.example;proto=https',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-proto': 'https',
    });
    const fields = received(sent.body);
    const host = new URL(base).host;
    expect(fields.get('forwarded')).toBe(
      `for=203.0.113.7;host=shop.example;proto=https, for="[::1]";host="${host}";proto=http`,
    );
    expect(fields.get('x-forwarded-for')).toBe('203.0.113.7, ::1');
    expect(fields.get('x-forwarded-host')).toBe('shop.example');
    expect(fields.get('x-forwarded-proto')).toBe('https');
  });

  it('says the protocol version the client spoke in Via', async () => {
    const sent = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '::1', port: Number(new URL(base).port) }, () =>
        socket.write('GET /echo HTTP/1.0\r\nHost: example.test\r\n\r\n'),
      );
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const body = sent.slice(sent.indexOf('\r\n\r\n') + 4);
    expect(received(body).get('via')).toBe('1.0 strata');
  });
});

describe('strata proxy in front of a dead upstream', () => {
  let proxy: StrataProxy;
  let server: Server;
  let base: string;
  const upstream = new Upstream();
  let clock = Date.parse('2030-01-01T00:00:00Z');

  beforeAll(async () => {
    await upstream.start();
    proxy = createProxy({ manifest, upstream: `http://127.0.0.1:${upstream.port}`, strata: { now: () => clock } });
    ({ server, base } = await listen(proxy));
  });

  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await proxy?.close();
  });

  it('answers 502 E_UPSTREAM_UNREACHABLE naming the connection error, and stale-if-error where the route allows', async () => {
    const cached = await fetch(`${base}/api/items`);
    const body = await cached.text();
    await upstream.stop();
    clock += 61_000;

    const dead = await fetch(`${base}/elsewhere`);
    expect(dead.status).toBe(502);
    expect(dead.headers.get('proxy-status')).toBe('strata; error=connection_refused; details="ECONNREFUSED"');
    const error = (await dead.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('E_UPSTREAM_UNREACHABLE');
    expect(error.error.message).toContain('ECONNREFUSED');
    // The same on a route the server cache stores, when it holds no copy to fall back on.
    const uncached = await fetch(`${base}/api/fragile`);
    expect(uncached.status).toBe(502);
    expect(((await uncached.json()) as { error: { code: string } }).error.code).toBe('E_UPSTREAM_UNREACHABLE');

    const stale = await fetch(`${base}/api/items`);
    expect(stale.status).toBe(200);
    expect(stale.headers.get('x-cache')).toBe('STALE');
    expect(await stale.text()).toBe(body);
  });

  it('without an admin token, the admin paths are the origin’s (here: unreachable), never an open admin API', async () => {
    const response = await fetch(`${base}/api/v1/cache/stats`);
    expect(response.status).toBe(502);
  });
});
