import { decodeSseEvent, EVENT_FORMAT } from '@strata/policy/protocol';
import { createStrata, memoryStore, type Strata } from '@strata/server';
import { redisBus } from '@strata/server/redis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
// The page's own parser reads what this instance's purge stream sends.
import { SseParser } from '../../../client/src/sse.js';
import { FIELD } from '../../src/bus/redis-stream.js';
import { redisUrlForTests } from '../helpers/use-services.js';
import { get, manifest, origin } from '../origin.js';

const url = redisUrlForTests();
const runStream = `strata-test:event-format:${process.pid}:${Date.now().toString(36)}`;
let streams = 0;

type Decoded = NonNullable<ReturnType<typeof decodeSseEvent>>;

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((close) => close()));
});

/** An instance with its own memory store on the shared Redis stream. */
function instance(stream: string): Strata {
  const strata = createStrata({ manifest, store: memoryStore(), bus: redisBus({ url: url(), stream, blockMs: 200 }) });
  cleanup.push(() => strata.close());
  return strata;
}

/** Appends an entry to the stream as another instance (of another version) would: `XADD`, one JSON field. */
async function writeAsAnotherInstance(stream: string, body: object): Promise<string> {
  const client = createClient({ url: url() });
  await client.connect();
  try {
    return String(await client.sendCommand(['XADD', stream, '*', FIELD, JSON.stringify(body)]));
  } finally {
    await client.close();
  }
}

/** The entries of the stream as written: the JSON of each. */
async function written(stream: string): Promise<Record<string, unknown>[]> {
  const client = createClient({ url: url() });
  await client.connect();
  try {
    const entries = (await client.sendCommand(['XRANGE', stream, '-', '+'])) as [string, string[]][];
    return entries.map(([, fields]) => JSON.parse(fields[1] as string) as Record<string, unknown>);
  } finally {
    await client.close();
  }
}

/** Opens the instance's purge stream and decodes what it sends, as the page does. */
async function openStream(strata: Strata): Promise<Decoded[]> {
  const controller = new AbortController();
  const response = await strata.events(new Request('http://app.test/strata/events', { signal: controller.signal }));
  const events: Decoded[] = [];
  const parser = new SseParser({
    event: (event) => {
      const decoded = decodeSseEvent(event);
      if (decoded) events.push(decoded);
    },
    retry: () => {},
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  void (async () => {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) parser.push(chunk.value);
  })().catch(() => {});
  cleanup.push(async () => {
    controller.abort();
    await reader.cancel().catch(() => {});
  });
  return events;
}

const xCache = async (strata: Strata, path: string, app = origin()) =>
  (await strata.handle(get(path), app)).headers.get('x-cache');

describe('purge events of another format version on one Redis stream (a rolling deploy)', () => {
  it('this instance writes its format version into every event', async () => {
    const stream = `${runStream}:${++streams}`;
    const a = instance(stream);
    await a.purge({ tags: ['users'] });
    const [entry] = await written(stream);
    expect(entry).toMatchObject({ v: EVENT_FORMAT, tags: ['users'], keys: [] });
  });

  it('a newer event with extra fields is applied by its tags and keys; an event without a version too', async () => {
    const stream = `${runStream}:${++streams}`;
    const b = instance(stream);
    const app = origin();
    for (const path of ['/api/users/7', '/api/users/8', '/api/users/9']) {
      await b.handle(get(path), app);
      expect(await xCache(b, path, app)).toBe('HIT');
    }
    const sse = await openStream(b);
    const newer = {
      v: EVENT_FORMAT + 1,
      tags: ['user:7'],
      keys: [],
      at: Date.now(),
      scope: 'eu-west',
      hints: { priority: 'high', fields: [1, 2] },
    };
    const newerId = await writeAsAnotherInstance(stream, newer);
    // The format before versions existed: no `v`, read as version 1.
    const legacyId = await writeAsAnotherInstance(stream, { tags: [], keys: ['http://app.test/api/users/8'], at: 1 });

    await expect.poll(() => xCache(b, '/api/users/7', app)).toBe('MISS');
    await expect.poll(() => xCache(b, '/api/users/8', app)).toBe('MISS');
    // Applied as a purge of what it names, not as a reset: the rest of the store stays.
    expect(await xCache(b, '/api/users/9', app)).toBe('HIT');

    // The browsers get both, in this instance's format, the unknown fields left out.
    await expect
      .poll(() => sse.filter((event) => !('position' in event)))
      .toEqual([
        { v: EVENT_FORMAT, id: newerId, tags: ['user:7'], keys: [], at: newer.at },
        { v: EVENT_FORMAT, id: legacyId, tags: [], keys: ['http://app.test/api/users/8'], at: 1 },
      ]);
  });

  it('a newer event without tags and keys this version can read is a reset, never an error', async () => {
    const stream = `${runStream}:${++streams}`;
    const b = instance(stream);
    const app = origin();
    await b.handle(get('/api/users/7'), app);
    expect(await xCache(b, '/api/users/7', app)).toBe('HIT');
    const sse = await openStream(b);
    const id = await writeAsAnotherInstance(stream, { v: EVENT_FORMAT + 1, targets: [{ tag: 'user:7' }], at: 2 });
    const garbage = await writeAsAnotherInstance(stream, { v: 'two', tags: 'user:7' });

    await expect.poll(() => xCache(b, '/api/users/7', app)).toBe('MISS');
    await expect
      .poll(() => sse.filter((event) => !('position' in event)))
      .toEqual([
        { v: EVENT_FORMAT, id, tags: [], keys: [], all: true, reason: 'unreadable', at: 2 },
        expect.objectContaining({ id: garbage, all: true, reason: 'unreadable' }),
      ]);
    // The instance goes on: a purge after them is applied as usual.
    await b.handle(get('/api/users/7'), app);
    await b.purge({ tags: ['user:7'] });
    expect(await xCache(b, '/api/users/7', app)).toBe('MISS');
  });
});
