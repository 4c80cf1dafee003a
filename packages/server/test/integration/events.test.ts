import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EVENT_FORMAT } from '@strata/policy/protocol';
import { createStrata, memoryBus, type PurgeResult, type Strata } from '@strata/server';
import { nodeListener } from '@strata/server/node';
import { EventSource } from 'eventsource';
import { afterEach, describe, expect, it } from 'vitest';
import { purgeData } from '../helpers/purge-data.js';
import { manifest } from '../origin.js';

interface Served {
  strata: Strata;
  url: string;
  close(): Promise<void>;
}

const servers: Served[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A real HTTP server whose only route is the purge stream; users are named by a `user` query parameter. */
async function serve(options: Partial<Parameters<typeof createStrata>[0]> = {}): Promise<Served> {
  const strata = createStrata({
    manifest,
    partition: (request) => new URL(request.url).searchParams.get('user') ?? undefined,
    ...options,
  });
  const server: Server = createServer(nodeListener(strata, (request) => strata.events(request)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served = {
    strata,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/strata/events`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await strata.close();
    },
  };
  servers.push(served);
  return served;
}

interface Received {
  type: string;
  id: string;
  data: unknown;
}

/** An EventSource (the `eventsource` package, a real HTTP client) that records what it receives. */
function listen(url: string, headers: Record<string, string> = {}) {
  const received: Received[] = [];
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
  });
  const record = (event: MessageEvent) =>
    received.push({ type: event.type, id: event.lastEventId, data: JSON.parse(event.data) });
  source.addEventListener('message', record);
  source.addEventListener('reset', record);
  const opened = new Promise<void>((resolve, reject) => {
    source.addEventListener('open', () => resolve(), { once: true });
    source.addEventListener(
      'error',
      (e) => reject(new Error(`stream failed: ${String((e as { message?: string }).message)}`)),
      { once: true },
    );
  });
  return { source, received, opened };
}

describe('the purge stream (SSE over real HTTP)', () => {
  it('sends one event per purge: id is the purge id, data its tags and keys', async () => {
    const { strata, url } = await serve();
    const client = listen(url);
    await client.opened;
    const purge = await strata.purge({ tags: ['users', 'user:1'], keys: ['/api/users/1'] });
    await expect
      .poll(() => client.received)
      .toEqual([{ type: 'message', id: purge.id, data: purgeData(['users', 'user:1'], ['/api/users/1']) }]);
    client.source.close();
  });

  it('tells browsers nothing of an entry removed by key: only servers keep it', async () => {
    const token = 'an-admin-token-for-tests';
    const { strata, url } = await serve({ admin: { token } });
    const client = listen(url);
    await client.opened;
    const key = encodeURIComponent('GET http://app.test/api/me #ab12');
    const removal = new Request(`http://app.test/api/v1/cache/key/${key}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await strata.admin(removal)).status).toBe(404); // nothing was stored: the event goes out anyway
    const purge = await strata.purge({ tags: ['after'] });
    await expect.poll(() => client.received.map((r) => r.id)).toEqual([purge.id]);
    client.source.close();
  });

  it('resumes after ?since= and after Last-Event-ID', async () => {
    const { strata, url } = await serve();
    const ids: string[] = [];
    for (const tag of ['a', 'b', 'c']) ids.push(((await strata.purge({ tags: [tag] })) as PurgeResult).id);
    const bySince = listen(`${url}?since=${ids[0]}`);
    await expect.poll(() => bySince.received.map((r) => r.id)).toEqual([ids[1], ids[2]]);
    const byHeader = listen(url, { 'last-event-id': ids[1] as string });
    await expect.poll(() => byHeader.received.map((r) => r.id)).toEqual([ids[2]]);
    bySince.source.close();
    byHeader.source.close();
  });

  it('tells a client without a resume point where it joined the log, so it can catch up from there', async () => {
    const { strata, url } = await serve();
    const before = await strata.purge({ tags: ['before'] });
    const positions: string[] = [];
    const first = listen(url);
    first.source.addEventListener('position', (event) => positions.push(event.lastEventId));
    await expect.poll(() => positions).toEqual([before.id]);
    first.source.close();
    // Purges made while no client is connected are replayed to one resuming from its position.
    const missed = [(await strata.purge({ tags: ['x'] })).id, (await strata.purge({ tags: ['y'] })).id];
    const back = listen(`${url}?since=${positions[0]}`);
    await expect.poll(() => back.received.map((r) => r.id)).toEqual(missed);
    back.source.close();

    // A log nothing was published to yet is joined at its start.
    const empty = await serve();
    const joined: string[] = [];
    const fresh = listen(empty.url);
    fresh.source.addEventListener('position', (event) => joined.push(event.lastEventId));
    await expect.poll(() => joined).toEqual(['0-0']);
    const next = await empty.strata.purge({ tags: ['z'] });
    await expect.poll(() => fresh.received.map((r) => r.id)).toEqual([next.id]);
    fresh.source.close();
  });

  it('resets a client whose resume point is older than the log keeps', async () => {
    const { strata, url } = await serve({ bus: memoryBus({ retain: 3 }) });
    const first = await strata.purge({ tags: ['t0'] });
    for (let i = 1; i < 10; i++) await strata.purge({ tags: [`t${i}`] });
    const client = listen(`${url}?since=${first.id}`);
    await expect.poll(() => client.received[0]?.type).toBe('reset');
    client.source.close();
  });

  it('answers a malformed resume id with a 400 JSON error', async () => {
    const { url } = await serve();
    for (const bad of ['abc', '1-2-3', '-1-0', '1.5-0']) {
      const response = await fetch(`${url}?since=${encodeURIComponent(bad)}`);
      expect(response.status, bad).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'E_BAD_RESUME_ID' } });
    }
  });

  it('tells only the partition concerned about a private purge', async () => {
    const { strata, url } = await serve();
    const alice = listen(`${url}?user=alice`);
    const bob = listen(`${url}?user=bob`);
    await Promise.all([alice.opened, bob.opened]);
    await strata.purge({ tags: ['me'], partition: 'alice' });
    const shared = await strata.purge({ tags: ['users'] });
    await expect.poll(() => bob.received.map((r) => r.id)).toEqual([shared.id]);
    expect(alice.received.map((r) => r.data)).toEqual([purgeData(['me']), purgeData(['users'])]);
    alice.source.close();
    bob.source.close();
  });

  it('sends a reset to every stream without the names the event carried, whoever it came from', async () => {
    const bus = memoryBus();
    const { url } = await serve({ bus });
    const bob = listen(`${url}?user=bob`);
    await bob.opened;
    // An event of the log that drops everything but also names alice's tags (another writer's).
    const id = await bus.publish({ tags: ['user:alice'], keys: ['/api/me'], partition: 'alice', all: true, at: 1 });
    await expect
      .poll(() => bob.received)
      .toEqual([
        { type: 'reset', id, data: { v: EVENT_FORMAT, tags: [], keys: [], at: 1, all: true, reason: 'clear-all' } },
      ]);
    bob.source.close();
  });

  it('leaves the tags and keys of private routes out of a purge that names no partition', async () => {
    const { strata, url } = await serve();
    const bob = listen(`${url}?user=bob`);
    await bob.opened;
    // 'me' is a tag only the private /api/me route carries; 'users' is public.
    const purge = await strata.purge({ tags: ['me', 'users'], keys: ['/api/me', '/api/users/1'] });
    await expect
      .poll(() => bob.received)
      .toEqual([{ type: 'message', id: purge.id, data: purgeData(['users'], ['/api/users/1']) }]);
    bob.source.close();
  });

  it("never broadcasts the query cache's row and list tags: they name key values", async () => {
    const { strata, url } = await serve();
    const bob = listen(`${url}?user=bob`);
    await bob.opened;
    const purge = await strata.purge({ tags: ['row:public.users:alice%40example.com', 'list:public.users', 'users'] });
    await expect.poll(() => bob.received).toEqual([{ type: 'message', id: purge.id, data: purgeData(['users']) }]);
    bob.source.close();
  });

  it('sends a retry hint, heartbeat comments, and a text/event-stream that no cache keeps', async () => {
    const { url } = await serve({ heartbeatMs: 50 });
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.startsWith('retry: ')).toBe(true);
    controller.abort();
  });

  it('cleans up after many connects and disconnects: no listeners, no timers left', async () => {
    const { strata, url } = await serve({ heartbeatMs: 1_000 });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    for (let round = 0; round < 10; round++) {
      const controllers = Array.from({ length: 20 }, () => new AbortController());
      const responses = await Promise.all(controllers.map((c) => fetch(url, { signal: c.signal })));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect((await strata.stats()).sse.open).toBe(20);
      for (const c of controllers) c.abort();
    }
    await expect.poll(async () => (await strata.stats()).sse.open).toBe(0);
    const stats = await strata.stats();
    expect(stats.sse.opened).toBe(200);
    expect(stats.bus.subscribers).toBe(1); // the instance's own subscription only
    await expect.poll(timers).toBeLessThanOrEqual(before);
  });

  it('exposes Prometheus metrics for lookups, purges, SSE clients and the outbox', async () => {
    const { strata, url } = await serve();
    const client = listen(url);
    await client.opened;
    await strata.handle(new Request('http://app.test/api/users/1'), async () => new Response('x'));
    await strata.purge({ tags: ['users'] });
    const text = await (await strata.metrics()).text();
    expect(text).toMatch(/strata_cache_lookups_total\{route="\/api\/users\/:id",outcome="miss"\} 1/);
    expect(text).toMatch(/strata_sse_connections 1/);
    expect(text).toMatch(/strata_purge_outbox_size 0/);
    expect(text).toMatch(/strata_purge_delivery_seconds_count 1/);
    expect(text).toMatch(/strata_store_circuit_open 0/);
    client.source.close();
  });
});
