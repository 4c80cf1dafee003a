import { createServer, request as httpRequest } from 'node:http';
import { matchRoute } from '@strata/policy';
import { nodeListener } from '@strata/server/node';
import { describe, expect, it } from 'vitest';
import { useListening } from '../helpers/use-listening.js';
import { manifest, strataFor } from '../origin.js';

/**
 * Request targets a client can send but `fetch` would normalize away (`//…`), through the node
 * adapter on a real HTTP server. The app routes with `matchRoute` on the path it was given, as the
 * demo does with its framework's path.
 */
describe('request targets through the node adapter', () => {
  const strata = strataFor();
  const reported: unknown[] = [];
  const server = createServer(
    nodeListener(
      strata,
      (request) => {
        const route = matchRoute(manifest, new URL(request.url).pathname)?.route.match ?? 'none';
        return new Response(JSON.stringify({ route }), { headers: { 'content-type': 'application/json' } });
      },
      { onError: (error) => reported.push(error) },
    ),
  );
  const port = useListening(server, strata);

  /** A raw GET: `path` goes on the request line exactly as written. */
  const send = (path: string) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: port(), path, method: 'GET' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers //-paths as paths that match no route, never with a 500', async () => {
    for (const path of ['//api/users/1', '//api/users/1?x=1', '//', '///api/me']) {
      const response = await send(path);
      expect(response.status, path).toBe(200);
      expect(JSON.parse(response.body), path).toEqual({ route: 'none' });
      expect(response.headers['x-cache'], path).toBeUndefined();
    }
    expect(reported).toEqual([]);
  });

  it('matches and keys an encoded path like its decoded form, and refuses to store an invalid one', async () => {
    const first = await send('/api/%75sers/7');
    expect(JSON.parse(first.body)).toEqual({ route: '/api/users/:id' });
    expect(first.headers['x-cache']).toBe('MISS');
    expect((await send('/api/users/7')).headers['x-cache']).toBe('HIT');
    const bad = await send('/api/users/%zz');
    expect(bad.status).toBe(200);
    expect(bad.headers['cache-control']).toBe('no-store');
    expect(reported).toEqual([]);
  });
});
