import {
  decodeSseEvent,
  EVENT_FORMAT,
  encodePosition,
  encodePurgeEvent,
  encodeSseRetry,
  type PurgeEvent,
  readPurgeEvent,
  SSE_HEARTBEAT,
} from '@strata/policy/protocol';
import { describe, expect, it } from 'vitest';
// The page's stream parser: the events the server writes must read back through it unchanged.
import { SseParser } from '../../client/src/sse.js';

type Decoded = NonNullable<ReturnType<typeof decodeSseEvent>>;

/** What the page applies for a stream of `text`, cut into chunks of `size` bytes. */
function read(text: string, size = Number.POSITIVE_INFINITY): { events: Decoded[]; retries: number[] } {
  const events: Decoded[] = [];
  const retries: number[] = [];
  const parser = new SseParser({
    event: (event) => {
      const decoded = decodeSseEvent(event);
      if (decoded) events.push(decoded);
    },
    retry: (ms) => retries.push(ms),
  });
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) parser.push(bytes.slice(i, i + size));
  parser.end();
  return { events, retries };
}

const purge = (id: string, tags: string[], keys: string[] = []): PurgeEvent => ({ v: 1, id, tags, keys, at: 7 });

describe('encodePurgeEvent', () => {
  it('writes the event, id and data fields and ends the event with a blank line (HTML §9.2.6)', () => {
    expect(encodePurgeEvent(purge('1-0', ['a'], ['/b']))).toBe(
      'id: 1-0\ndata: {"v":1,"tags":["a"],"keys":["/b"],"at":7}\n\n',
    );
    const reset: PurgeEvent = { v: 1, id: '2-0', tags: [], keys: [], all: true, reason: 'retention', at: 8 };
    expect(encodePurgeEvent(reset)).toBe(
      'event: reset\nid: 2-0\ndata: {"v":1,"tags":[],"keys":[],"all":true,"reason":"retention","at":8}\n\n',
    );
    expect(encodePosition('5-2')).toBe('event: position\nid: 5-2\ndata: {}\n\n');
    expect(encodeSseRetry(3000)).toBe('retry: 3000\n\n');
  });

  it('writes a reset without tags or keys: it goes to every stream, whoever the event named', () => {
    const reset: PurgeEvent = {
      ...purge('4-0', ['user:7'], ['/api/me']),
      all: true,
      reason: 'clear-all',
      partition: 'u7',
    };
    expect(encodePurgeEvent(reset)).toBe(
      'event: reset\nid: 4-0\ndata: {"v":1,"tags":[],"keys":[],"at":7,"all":true,"reason":"clear-all"}\n\n',
    );
  });

  it('leaves the partition out and writes its own format, whatever version the event was read in', () => {
    const event: PurgeEvent = { ...purge('3-0', ['user:7']), v: 9, partition: 'user-7' };
    expect(encodePurgeEvent(event)).toBe('id: 3-0\ndata: {"v":1,"tags":["user:7"],"keys":[],"at":7}\n\n');
  });

  it('leaves a pattern purge’s pattern out: it is for the servers’ own tiers', () => {
    const event: PurgeEvent = { ...purge('4-0', []), keys: ['/api/me/1'], pattern: 'GET https://a.test/api/me/*' };
    expect(encodePurgeEvent(event)).toBe('id: 4-0\ndata: {"v":1,"tags":[],"keys":["/api/me/1"],"at":7}\n\n');
  });

  it('leaves the server keys of removed entries out: they are for the servers’ own tiers, and name private URLs', () => {
    const event: PurgeEvent = { ...purge('5-0', []), entries: ['GET https://a.test/api/me/1 #3f2a'] };
    expect(encodePurgeEvent(event)).toBe('id: 5-0\ndata: {"v":1,"tags":[],"keys":[],"at":7}\n\n');
  });

  it('leaves the publisher out, of a purge and of a reset: it tells servers their own events apart', () => {
    const event: PurgeEvent = { ...purge('6-0', ['user:7']), publisher: '0b7c9a52-instance' };
    expect(encodePurgeEvent(event)).toBe('id: 6-0\ndata: {"v":1,"tags":["user:7"],"keys":[],"at":7}\n\n');
    const reset: PurgeEvent = { ...event, id: '7-0', all: true, reason: 'clear-all' };
    expect(encodePurgeEvent(reset)).toBe(
      'event: reset\nid: 7-0\ndata: {"v":1,"tags":[],"keys":[],"at":7,"all":true,"reason":"clear-all"}\n\n',
    );
  });
});

describe('a stream the server writes, read by the page', () => {
  const sent: PurgeEvent[] = [
    purge('11-0', ['user:42', 'posts'], ['/api/a?x=1', 'https://app.example/é']),
    purge('12-0', []),
    { v: 1, id: '13-0', tags: [], keys: [], all: true, reason: 'clear-all', at: 9 },
  ];
  const text = encodeSseRetry(2500) + [encodePosition('10-0'), ...sent.map(encodePurgeEvent)].join(SSE_HEARTBEAT);
  const expected: Decoded[] = [{ position: '10-0' }, ...sent];

  it('round-trips every event, the heartbeats between them ignored', () => {
    expect(read(text)).toEqual({ events: expected, retries: [2500] });
  });

  it('round-trips the same when the bytes arrive one at a time (a UTF-8 character split too)', () => {
    expect(read(text, 1)).toEqual({ events: expected, retries: [2500] });
  });
});

describe('decodeSseEvent', () => {
  const sse = (type: string, data: string) => ({ type, data, lastEventId: '7-0' });

  it('skips event types it does not know', () => {
    expect(decodeSseEvent(sse('future', '{"tags":["a"]}'))).toBeUndefined();
  });

  it('reads a newer format: applies the tags and keys, ignores fields it does not know', () => {
    const data = '{"v":2,"tags":["a"],"keys":["/x"],"at":3,"scope":"eu","priority":{"n":1}}';
    expect(decodeSseEvent(sse('message', data))).toEqual({ v: 2, id: '7-0', tags: ['a'], keys: ['/x'], at: 3 });
  });

  it('reads an event of the format before versions (no v, no at) as version 1', () => {
    expect(decodeSseEvent(sse('message', '{"tags":["a"],"keys":[]}'))).toEqual({ ...purge('7-0', ['a']), at: 0 });
  });

  it('reads what it cannot read as a reset, keeping the id: never a purge of nothing, never a throw', () => {
    const unreadable = [
      'not json',
      'null',
      '42',
      '{"tags":["a",1],"keys":[]}',
      '{"tags":["a"],"keys":"/x"}',
      '{"v":"2","tags":["a"],"keys":[]}',
      '{"v":0,"tags":["a"],"keys":[]}',
      '{"v":2,"targets":["a"]}',
      '{"v":2,"tags":["a"]}',
    ];
    for (const data of unreadable) {
      expect(decodeSseEvent(sse('message', data)), data).toMatchObject({ id: '7-0', all: true, reason: 'unreadable' });
    }
  });

  it('a reset event is a reset whatever its data, with the reason it gives', () => {
    expect(decodeSseEvent(sse('reset', '{"reason":"trimmed"}'))).toEqual({
      v: 1,
      id: '7-0',
      tags: [],
      keys: [],
      all: true,
      reason: 'trimmed',
      at: 0,
    });
    expect(decodeSseEvent(sse('reset', 'null'))).toMatchObject({ all: true, reason: 'clear-all' });
  });
});

describe('readPurgeEvent', () => {
  it('keeps a partition and a newer reason, and takes `at` from the caller when the data has none', () => {
    expect(readPurgeEvent('1-0', { tags: ['a'], keys: [], partition: 'p', all: true, reason: 'moved' }, 1)).toEqual({
      v: EVENT_FORMAT,
      id: '1-0',
      tags: ['a'],
      keys: [],
      partition: 'p',
      all: true,
      reason: 'moved',
      at: 1,
    });
  });
});

describe('the purge mode on the event', () => {
  it('reads `soft` and writes it on; an absent or unknown mode reads as hard (no field)', () => {
    const soft = readPurgeEvent('2-0', { v: 1, tags: ['a'], keys: [], mode: 'soft', at: 5 });
    expect(soft.mode).toBe('soft');
    expect(encodePurgeEvent(soft)).toBe('id: 2-0\ndata: {"v":1,"tags":["a"],"keys":[],"at":5,"mode":"soft"}\n\n');
    for (const mode of [undefined, 'hard', 'gentle', 1]) {
      expect(readPurgeEvent('3-0', { v: 1, tags: ['a'], keys: [], mode, at: 5 })).not.toHaveProperty('mode');
    }
  });

  it('a reset is never soft, nor is an event this version cannot read', () => {
    expect(readPurgeEvent('4-0', { v: 1, tags: [], keys: [], all: true, mode: 'soft', at: 5 })).not.toHaveProperty(
      'mode',
    );
    expect(readPurgeEvent('5-0', { v: 1, tags: 'a', mode: 'soft', at: 5 })).toMatchObject({
      all: true,
      reason: 'unreadable',
    });
    expect(readPurgeEvent('5-0', { v: 1, tags: 'a', mode: 'soft', at: 5 })).not.toHaveProperty('mode');
  });
});
