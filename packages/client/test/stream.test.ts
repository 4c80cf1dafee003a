import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PurgeFrame } from '@strata/policy/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { PurgeStream } from '../src/stream.js';

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

function stream(url: string, applied: PurgeFrame[], headers: () => Record<string, string> = () => ({})) {
  let last: string | null = null;
  return new PurgeStream({
    url: () => url,
    headers,
    credentials: 'same-origin',
    lastEventId: () => last,
    apply: async (frame) => {
      applied.push(frame);
      last = frame.id;
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
      events('id: 3\ndata: {"tags":["b"],"keys":["/x"]}\n\n'),
      (_req, res) => res.writeHead(204).end(),
    ]);
    const applied: PurgeFrame[] = [];
    let calls = 0;
    const s = stream(url, applied, () => ({ authorization: `Bearer token-${++calls}` }));
    s.open();
    await expect.poll(() => s.closed).toBe(true);
    expect(applied).toEqual([
      { id: '1', kind: 'purge', tags: ['a'], keys: [] },
      { id: '2', kind: 'reset', tags: [], keys: [] },
      { id: '3', kind: 'purge', tags: ['b'], keys: ['/x'] },
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
    const applied: PurgeFrame[] = [];
    const s = stream(url, applied);
    s.open();
    await expect.poll(() => s.closed).toBe(true);
    expect(applied).toEqual([]);
    expect(requests).toHaveLength(2);
  });
});
