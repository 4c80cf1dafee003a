import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CLOUDFLARE_MAX_FILES_PER_REQUEST,
  CLOUDFLARE_MAX_TAGS_PER_REQUEST,
  cloudflarePurger,
} from '../src/cdn/cloudflare.js';
import { FASTLY_MAX_KEYS_PER_REQUEST, fastlyPurger } from '../src/cdn/fastly.js';
import { isPurgeError, withRetry } from '../src/cdn/retry.js';

// Fastly's and Cloudflare's APIs cannot be reached from here: these are contract tests of the
// request shape (method, path, headers, body, batching) and of how answers map to results,
// against a real loopback HTTP server that records each request and answers as the API would.

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const TOKEN = 'secret-token-8f2c1e';
const recorded: Recorded[] = [];
let reply: (request: Recorded, index: number) => Reply = () => ({});
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      recorded.push(request);
      const { status = 200, headers = {}, body: payload = {} } = reply(request, recorded.length - 1);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  recorded.length = 0;
  reply = () => ({});
});

const tagList = (n: number) => Array.from({ length: n }, (_, i) => `tag:${i}`);
const json = (request: Recorded | undefined): unknown => JSON.parse(request?.body ?? 'null');

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection with an Error');
  return error;
}

describe('fastlyPurger — contract of the request shape (local recording server, not Fastly)', () => {
  const purger = (options: { soft?: boolean } = {}) =>
    fastlyPurger({ serviceId: 'SVC123', token: TOKEN, apiBase: `${base}/`, ...options });

  it('purges surrogate keys with POST /service/{id}/purge, Fastly-Key and a JSON surrogate_keys body', async () => {
    reply = () => ({ body: { 'user:1': '108-1391560174-974124', users: '108-1391560174-974125' } });
    expect(await purger().purge({ tags: ['user:1', 'users', 'user:1'], urls: [] })).toBeUndefined();
    expect(recorded).toHaveLength(1);
    const [request] = recorded;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/service/SVC123/purge');
    expect(request?.headers['fastly-key']).toBe(TOKEN);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.accept).toBe('application/json');
    expect(request?.headers['fastly-soft-purge']).toBeUndefined();
    expect(json(request)).toEqual({ surrogate_keys: ['user:1', 'users'] });
  });

  it(`batches at ${FASTLY_MAX_KEYS_PER_REQUEST} keys: 257 keys make a request of 256, then one of 1`, async () => {
    expect(FASTLY_MAX_KEYS_PER_REQUEST).toBe(256);
    const tags = tagList(257);
    await purger().purge({ tags, urls: [] });
    expect(recorded.map((r) => (json(r) as { surrogate_keys: string[] }).surrogate_keys)).toEqual([
      tags.slice(0, 256),
      tags.slice(256),
    ]);
    recorded.length = 0;
    await purger().purge({ tags: tagList(256), urls: [] });
    expect(recorded).toHaveLength(1);
  });

  it('soft: Fastly-Soft-Purge: 1 on key and URL purges', async () => {
    await purger({ soft: true }).purge({ tags: ['a'], urls: ['https://www.example.com/a'] });
    expect(recorded.map((r) => r.headers['fastly-soft-purge'])).toEqual(['1', '1']);
  });

  it('a soft purge (`mode: soft`) sends Fastly-Soft-Purge: 1 without the option; a hard one does not', async () => {
    await purger().purge({ tags: ['a'], urls: ['https://www.example.com/a'], soft: true });
    await purger().purge({ tags: ['a'], urls: [] });
    expect(recorded.map((r) => r.headers['fastly-soft-purge'])).toEqual(['1', '1', undefined]);
  });

  it('purges each URL with POST /purge/{host}{path}, the query kept inside the path parameter', async () => {
    await purger().purge({
      tags: [],
      urls: [
        'https://www.example.com/a/b?x=1&y=%20',
        'http://shop.example:8080/c',
        'https://www.example.com/a/b?x=1&y=%20',
      ],
    });
    expect(recorded.map((r) => [r.method, r.path, r.headers['fastly-key']])).toEqual([
      ['POST', '/purge/www.example.com/a/b%3Fx=1&y=%20', TOKEN],
      ['POST', '/purge/shop.example:8080/c', TOKEN],
    ]);
  });

  it('`all` calls POST /service/{id}/purge_all, never soft, and sends nothing else', async () => {
    await purger({ soft: true }).purge({ tags: ['a'], urls: ['https://www.example.com/'], all: true });
    expect(recorded.map((r) => [r.method, r.path])).toEqual([['POST', '/service/SVC123/purge_all']]);
    expect(recorded[0]?.headers['fastly-soft-purge']).toBeUndefined();
    expect(recorded[0]?.headers['fastly-key']).toBe(TOKEN);
  });

  it('an error answer rejects naming the CDN, the status and the API message, without the token', async () => {
    reply = () => ({ status: 403, body: { msg: `Token ${TOKEN} lacks scope`, detail: 'purge_select required' } });
    const error = await rejection(purger().purge({ tags: ['a'], urls: [] }));
    expect(error.message).toBe(
      'fastly surrogate-key purge (batch 1 of 1) failed: HTTP 403 Forbidden: Token [redacted] lacks scope: purge_select required',
    );
    expect(error.message).not.toContain(TOKEN);
    expect(isPurgeError(error) && error.retryable).toBe(false);
  });

  it('a 503 or a refused connection is retryable; a tag with a space is refused before any request', async () => {
    reply = () => ({ status: 503, headers: { 'retry-after': '2' }, body: 'upstream busy' });
    const busy = await rejection(purger().purge({ tags: ['a'], urls: [] }));
    expect(isPurgeError(busy) && [busy.retryable, busy.status, busy.retryAfterMs]).toEqual([true, 503, 2000]);
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
    const down = fastlyPurger({ serviceId: 'SVC123', token: TOKEN, apiBase: `http://127.0.0.1:${port}` });
    const refused = await rejection(down.purge({ tags: ['a'], urls: [] }));
    expect(refused.message).toMatch(
      /^fastly surrogate-key purge \(batch 1 of 1\) failed: fetch failed: .*ECONNREFUSED/,
    );
    expect(isPurgeError(refused) && refused.retryable).toBe(true);
    recorded.length = 0;
    const bad = await rejection(purger().purge({ tags: ['two words'], urls: [] }));
    expect(isPurgeError(bad) && bad.retryable).toBe(false);
    expect(recorded).toHaveLength(0);
  });
});

describe('cloudflarePurger — contract of the request shape (local recording server, not Cloudflare)', () => {
  const ok = { success: true, errors: [], messages: [], result: { id: 'purge-id' } };
  const purger = () => cloudflarePurger({ zoneId: 'ZONE9', token: TOKEN, apiBase: base });

  it('purges tags with POST /zones/{zone}/purge_cache, a bearer token and a JSON tags body', async () => {
    reply = () => ({ body: ok });
    await purger().purge({ tags: ['user:1', 'users'], urls: [] });
    expect(recorded).toHaveLength(1);
    const [request] = recorded;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/zones/ZONE9/purge_cache');
    expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(json(request)).toEqual({ tags: ['user:1', 'users'] });
  });

  it('has no soft purge: a soft request is the same hard purge', async () => {
    reply = () => ({ body: ok });
    await purger().purge({ tags: ['users'], urls: ['https://www.example.com/u'], soft: true });
    await purger().purge({ tags: ['users'], urls: ['https://www.example.com/u'] });
    const [soft, hard] = [recorded.slice(0, 2), recorded.slice(2)];
    expect(soft.map((r) => [r.path, json(r)])).toEqual(hard.map((r) => [r.path, json(r)]));
    expect(soft.map((r) => json(r))).toEqual([{ tags: ['users'] }, { files: ['https://www.example.com/u'] }]);
  });

  it(`batches tags at the documented ${CLOUDFLARE_MAX_TAGS_PER_REQUEST} per request: limit + 1 makes 2 requests`, async () => {
    reply = () => ({ body: ok });
    expect(CLOUDFLARE_MAX_TAGS_PER_REQUEST).toBe(100);
    const tags = tagList(101);
    await purger().purge({ tags, urls: [] });
    expect(recorded.map((r) => (json(r) as { tags: string[] }).tags)).toEqual([tags.slice(0, 100), tags.slice(100)]);
  });

  it(`purges URLs as files, ${CLOUDFLARE_MAX_FILES_PER_REQUEST} per request (configurable for Enterprise)`, async () => {
    reply = () => ({ body: ok });
    const urls = Array.from({ length: 101 }, (_, i) => `https://www.example.com/p/${i}`);
    await purger().purge({ tags: ['t'], urls });
    expect(recorded.map((r) => json(r))).toEqual([
      { tags: ['t'] },
      { files: urls.slice(0, 100) },
      { files: urls.slice(100) },
    ]);
    recorded.length = 0;
    await cloudflarePurger({ zoneId: 'ZONE9', token: TOKEN, apiBase: base, maxFilesPerRequest: 500 }).purge({
      tags: [],
      urls,
    });
    expect(recorded).toHaveLength(1);
  });

  it('`all` sends { purge_everything: true } and nothing else', async () => {
    reply = () => ({ body: ok });
    await purger().purge({ tags: ['a'], urls: ['https://www.example.com/'], all: true });
    expect(recorded.map((r) => [r.method, r.path, json(r)])).toEqual([
      ['POST', '/zones/ZONE9/purge_cache', { purge_everything: true }],
    ]);
  });

  it('success: false in a 200 body is a failure with the API error messages, and is not retried', async () => {
    reply = () => ({
      body: { success: false, errors: [{ code: 1134, message: `Invalid token ${TOKEN}` }], messages: [], result: null },
    });
    const error = await rejection(purger().purge({ tags: ['a'], urls: [] }));
    expect(error.message).toBe(
      'cloudflare tag purge (batch 1 of 1) failed: HTTP 200 OK: 1134: Invalid token [redacted]',
    );
    recorded.length = 0;
    const report = await withRetry(purger(), { baseDelayMs: 1 }).purge({ tags: ['a'], urls: [] });
    expect(report).toMatchObject({ purger: 'cloudflare', ok: false, attempts: 1 });
    expect(report.error).toContain('1134: Invalid token');
    expect(recorded).toHaveLength(1);
  });

  it('a 2xx without success: true is not taken for a purge', async () => {
    reply = () => ({ body: '<html>captive portal</html>', headers: { 'content-type': 'text/html' } });
    const error = await rejection(purger().purge({ tags: ['a'], urls: [] }));
    expect(error.message).toBe('cloudflare tag purge (batch 1 of 1) failed: HTTP 200 OK: <html>captive portal</html>');
  });

  it('429 and 5xx carry the API messages and are retried; the second batch is sent once the first passes', async () => {
    reply = (_request, index) =>
      index === 0
        ? {
            status: 429,
            headers: { 'retry-after': '0' },
            body: { success: false, errors: [{ code: 971, message: 'Please wait' }] },
          }
        : { body: ok };
    const report = await withRetry(purger(), { baseDelayMs: 1 }).purge({ tags: tagList(150), urls: [] });
    expect(report).toEqual({ purger: 'cloudflare', ok: true, attempts: 2 });
    expect(recorded.map((r) => (json(r) as { tags: string[] }).tags.length)).toEqual([100, 100, 50]);
    reply = () => ({ status: 500, body: { success: false, errors: [{ code: 10000, message: 'Internal error' }] } });
    const error = await rejection(purger().purge({ tags: ['a'], urls: [] }));
    expect(error.message).toBe(
      'cloudflare tag purge (batch 1 of 1) failed: HTTP 500 Internal Server Error: 10000: Internal error',
    );
    expect(isPurgeError(error) && error.retryable).toBe(true);
  });
});
