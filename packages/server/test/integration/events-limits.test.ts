import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { createStrata, memoryBus, type PurgeResult, type Strata } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import { afterEach, describe, expect, it } from 'vitest';
import { compareIds } from '../../src/bus/ids.js';
import { heapAfterGc } from '../helpers/heap.js';
import { manifest } from '../origin.js';

const servers: { close(): Promise<void> }[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A real HTTP server (node adapter) whose only route is the purge stream. */
async function serve(options: Partial<Parameters<typeof createStrata>[0]> = {}) {
  const strata: Strata = createStrata({ manifest, bus: memoryBus({ retain: 10_000 }), ...options });
  const server: Server = createServer(nodeListener(strata, (request) => strata.events(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  servers.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await strata.close();
    },
  });
  return { strata, port };
}

/** A raw HTTP client on a socket: it sends the request and reads only when told to. */
function rawClient(port: number, headers: Record<string, string> = {}) {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(`GET /strata/events HTTP/1.1\r\nhost: 127.0.0.1\r\n${lines.join('')}\r\n`);
  socket.pause();
  let text = '';
  socket.setEncoding('utf8');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    closed,
    /** Starts reading; everything read so far is in `text()`. */
    read() {
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.resume();
    },
    text: () => text,
  };
}

/** A purge whose event is about 1 KB on the stream. */
const bigPurge = (i: number) => ({ tags: Array.from({ length: 10 }, (_, t) => `tag-${i}-${t}-${'x'.repeat(80)}`) });

const ids = (text: string) => [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1] as string);

describe('purge stream limits (real HTTP, clients that stop reading)', () => {
  it('10 stalled readers and 3,000 purges: each holds at most maxBufferedBytes, and gets every purge once it reads', async () => {
    const maxBufferedBytes = 32 * 1024;
    const { strata, port } = await serve({ events: { maxBufferedBytes } });
    const clients = Array.from({ length: 10 }, () => rawClient(port));
    await expect.poll(async () => (await strata.stats()).sse.open).toBe(10);
    const published: string[] = [];
    let peak = 0;
    for (let i = 0; i < 3_000; i++) {
      published.push(((await strata.purge(bigPurge(i))) as PurgeResult).id);
      if (i % 50 === 0) peak = Math.max(peak, (await strata.stats()).sse.queuedBytes);
    }
    // About 3 MB was published for each stream; none holds more than its limit (plus one frame).
    const stalled = await strata.stats();
    peak = Math.max(peak, stalled.sse.queuedBytes);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(10 * (maxBufferedBytes + 2_048));
    expect(stalled.sse.pauses).toBeGreaterThanOrEqual(10);
    expect(stalled.sse.open).toBe(10); // nobody was dropped

    // Reading again, each client receives every purge, in order, from the log.
    for (const client of clients) client.read();
    const last = published.at(-1) as string;
    for (const client of clients) {
      await expect.poll(() => ids(client.text()).includes(last), { timeout: 20_000 }).toBe(true);
      expect(ids(client.text()).filter((id) => published.includes(id))).toEqual(published);
    }
  });

  it('100 stalled readers and 5,000 purges: queued bytes bounded, heap far below queuing every purge', async () => {
    /** Heap growth over 5,000 small purges with `readers` stalled clients connected. */
    const growth = async (readers: number) => {
      const { strata, port } = await serve({ events: { maxBufferedBytes: 16 * 1024 } });
      for (let i = 0; i < readers; i++) rawClient(port);
      await expect.poll(async () => (await strata.stats()).sse.open).toBe(readers);
      const before = heapAfterGc();
      for (let i = 0; i < 5_000; i++) await strata.purge({ tags: [`user:${i}`] });
      const grown = heapAfterGc() - before;
      // Counted in bytes: every reader holds at most its limit plus one frame.
      expect((await strata.stats()).sse.queuedBytes).toBeLessThanOrEqual(readers * (16 * 1024 + 128));
      for (const socket of sockets.splice(0)) socket.destroy();
      return grown;
    };
    const alone = await growth(0); // the log itself: 5,000 events retained
    const stalled = await growth(100);
    // Measured on this test: the log alone +2 MB; 100 stalled readers +12 MB bounded (frames
    // encoded for them, socket buffers, 1.6 MB queued), +35 MB unbounded (every purge queued for
    // every reader). The bound must keep the readers' share well under the unbounded one.
    expect(stalled - alone).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);

  it('a reader that falls behind what the log retains gets a reset, never a silent gap', async () => {
    const { strata, port } = await serve({ bus: memoryBus({ retain: 100 }), events: { maxBufferedBytes: 16 * 1024 } });
    const slow = rawClient(port);
    await expect.poll(async () => (await strata.stats()).sse.open).toBe(1);
    const published: string[] = [];
    for (let i = 0; i < 1_000; i++) published.push(((await strata.purge(bigPurge(i))) as PurgeResult).id);
    slow.read();
    const last = published.at(-1) as string;
    await expect.poll(() => ids(slow.text()).includes(last), { timeout: 20_000 }).toBe(true);
    const received = ids(slow.text());
    expect(slow.text()).toContain('event: reset');
    expect(slow.text()).toContain('"reason":"retention"');
    // Every purge is either delivered or covered by the reset that precedes the ones after it.
    const missed = published.filter((id) => !received.includes(id));
    expect(missed.length).toBeGreaterThan(0);
    const resets = [...slow.text().matchAll(/^event: reset\nid: (\S+)$/gm)].map((m) => m[1] as string);
    expect(resets.length).toBeGreaterThan(0);
    const newestReset = resets.sort(compareIds).at(-1) as string;
    expect(missed.filter((id) => compareIds(id, newestReset) > 0)).toEqual([]);
  });

  it('answers a connection beyond maxConnections with 503, Retry-After and a JSON error', async () => {
    const { strata, port } = await serve({ events: { maxConnections: 2 } });
    const open = [rawClient(port), rawClient(port)];
    for (const client of open) client.read();
    await expect.poll(async () => (await strata.stats()).sse.open).toBe(2);
    const refused = await fetch(`http://127.0.0.1:${port}/strata/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('E_TOO_MANY_STREAMS');
    expect((await strata.stats()).sse.refused).toBe(1);
    // A stream that closes frees its place.
    open[0]?.socket.destroy();
    await expect.poll(async () => (await strata.stats()).sse.open).toBe(1);
    const accepted = rawClient(port);
    accepted.read();
    await expect.poll(() => accepted.text()).toContain('200 OK');
  });
});
