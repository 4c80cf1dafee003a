import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineManifest } from '@strata/policy';
import { createStrata, type Strata } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import { afterEach, describe, expect, it } from 'vitest';

// The node adapter's Request carries a signal of its own that aborts when the client leaves
// (AdapterRequest in src/adapters/node.ts): what a handler, the purge stream and a proxy use.

const manifest = defineManifest({ version: 1, routes: [] });
const open: { server: Server; strata: Strata }[] = [];

afterEach(async () => {
  for (const { server, strata } of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await strata.close();
  }
});

async function serve(handler: (request: Request) => Promise<Response>): Promise<number> {
  const strata = createStrata({ manifest });
  const server = createServer(nodeListener(strata, handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ server, strata });
  return (server.address() as AddressInfo).port;
}

/** Sends `method /path` with `body`, then drops the connection once the handler has it. */
function leave(port: number, method: string, body: string | undefined, received: Promise<unknown>): void {
  const client = httpRequest({ host: '127.0.0.1', port, method, path: '/slow' });
  client.on('error', () => {});
  client.end(body);
  void received.then(() => client.destroy());
}

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
  });

describe('the node adapter’s Request signal on a real server', () => {
  for (const method of ['GET', 'PUT']) {
    it(`${method}: aborts when the client goes away, and so do clone() and new Request(url, request)`, async () => {
      let arrived!: (request: Request) => void;
      const received = new Promise<Request>((resolve) => {
        arrived = resolve;
      });
      const port = await serve(async (request) => {
        arrived(request);
        await aborted(request.signal);
        return new Response('too late');
      });
      leave(port, method, method === 'PUT' ? '{"a":1}' : undefined, received);
      const request = await received;
      const copies = [request.clone(), new Request('http://elsewhere.test/upstream', request)];
      expect(request.signal.aborted).toBe(false);
      const reasons = await Promise.all([request.signal, ...copies.map((copy) => copy.signal)].map(aborted));
      for (const reason of reasons) expect((reason as DOMException).name).toBe('AbortError');
    });
  }

  it('a request answered in full never aborts its signal, and its body reaches the handler', async () => {
    let seen: Request | undefined;
    const port = await serve(async (request) => {
      seen = request;
      return new Response(`got ${await request.text()}`);
    });
    const response = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'hello' });
    expect(await response.text()).toBe('got hello');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toBeInstanceOf(Request);
    expect(seen?.signal.aborted).toBe(false);
  });
});
