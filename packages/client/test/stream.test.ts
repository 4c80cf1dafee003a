import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PurgeStream, type StreamOptions } from '../src/stream.js';

// PurgeStream against a real HTTP server on loopback (Node's fetch streams the body as a browser's does).

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A server answering its n-th request with `answers[n]` (the last one repeats). */
async function serve(answers: Answer[]): Promise<{ url: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    (answers[requests.length - 1] ?? (answers.at(-1) as Answer))(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => server.close() && server.closeAllConnections() });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, requests };
}

const events =
  (body: string): Answer =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(body);
  };

type Applied = Parameters<StreamOptions['apply']>[0];

function stream(url: string, applied: Applied[], headers: () => Record<string, string> = () => ({})) {
  let last: string | null = null;
  return new PurgeStream({
    url: () => url,
    headers,
    credentials: 'same-origin',
    lastEventId: () => last,
    apply: async (event) => {
      applied.push(event);
      last = 'position' in event ? event.position : event.id;
    },
    onOffline: () => undefined,
    initialDelay: 1,
    maxDelay: 4,
  });
}

describe('PurgeStream over fetch', () => {
  it('stops for good on a 204', async () => {
    const { url, requests } = await serve([(_req, res) => res.writeHead(204).end()]);
    const s = stream(url, []);
    s.open();
    await expect.poll(() => s.closed).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('asks for headers on every connect, retries a 401 and an ended stream, and resumes with Last-Event-ID', async () => {
    const { url, requests } = await serve([
      (_req, res) => res.writeHead(401).end(),
      events('id: 1\ndata: {"tags":["a"],"keys":[]}\n\nid: 2\nevent: reset\ndata: {}\n\ndata: cut off'),
      // A newer format: the fields this version knows are applied, the others ignored.
      events('id: 3\ndata: {"v":2,"tags":["b"],"keys":["/x"],"at":5,"scope":"eu"}\n\n'),
      (_req, res) => res.writeHead(204).end(),
    ]);
    const applied: Applied[] = [];
    let calls = 0;
    const s = stream(url, applied, () => ({ authorization: `Bearer token-${++calls}` }));
    s.open();
    await expect.poll(() => s.closed).toBe(true);
    expect(applied).toEqual([
      { v: 1, id: '1', tags: ['a'], keys: [], at: 0 },
      { v: 1, id: '2', tags: [], keys: [], at: 0, all: true, reason: 'clear-all' },
      { v: 2, id: '3', tags: ['b'], keys: ['/x'], at: 5 },
    ]);
    expect(requests.map((r) => r.headers.authorization)).toEqual([1, 2, 3, 4].map((n) => `Bearer token-${n}`));
    expect(requests.map((r) => r.headers['last-event-id'] ?? null)).toEqual([null, null, '2', '3']);
    expect(requests.every((r) => r.headers.accept === 'text/event-stream')).toBe(true);
  });

  it('refuses an answer that is not an event stream, and reconnects', async () => {
    const { url, requests } = await serve([
      (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('id: 9\ndata: {}\n\n'),
      (_req, res) => res.writeHead(204).end(),
    ]);
    const applied: Applied[] = [];
    const s = stream(url, applied);
    s.open();
    await expect.poll(() => s.closed).toBe(true);
    expect(applied).toEqual([]);
    expect(requests).toHaveLength(2);
  });
});
