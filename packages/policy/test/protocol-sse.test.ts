import {
  decodePurgeFrame,
  encodeSseEvent,
  encodeSseRetry,
  type PurgeFrame,
  SSE_HEARTBEAT,
  type SseFrame,
} from '@strata/policy/protocol';
import { describe, expect, it } from 'vitest';
// The page's stream parser: the frames the server writes must read back through it unchanged.
import { SseParser } from '../../client/src/sse.js';

/** What the page applies for a stream of `text`, cut into chunks of `size` bytes. */
function read(text: string, size = Number.POSITIVE_INFINITY): { frames: PurgeFrame[]; retries: number[] } {
  const frames: PurgeFrame[] = [];
  const retries: number[] = [];
  const parser = new SseParser({
    event: (event) => {
      const frame = decodePurgeFrame(event);
      if (frame) frames.push(frame);
    },
    retry: (ms) => retries.push(ms),
  });
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) parser.push(bytes.slice(i, i + size));
  parser.end();
  return { frames, retries };
}

describe('encodeSseEvent', () => {
  it('writes the event, id and data fields and ends the event with a blank line (HTML §9.2.6)', () => {
    expect(encodeSseEvent({ id: '1-0', data: { tags: ['a'], keys: ['/b'] } })).toBe(
      'id: 1-0\ndata: {"tags":["a"],"keys":["/b"]}\n\n',
    );
    expect(encodeSseEvent({ event: 'reset', data: { reason: 'trimmed' } })).toBe(
      'event: reset\ndata: {"reason":"trimmed"}\n\n',
    );
    expect(encodeSseEvent({ event: 'position', id: '5-2', data: {} })).toBe('event: position\nid: 5-2\ndata: {}\n\n');
    expect(encodeSseRetry(3000)).toBe('retry: 3000\n\n');
  });
});

describe('a stream the server writes, read by the page', () => {
  const frames: SseFrame[] = [
    { event: 'position', id: '10-0', data: {} },
    { id: '11-0', data: { tags: ['user:42', 'posts'], keys: ['/api/a?x=1', 'https://app.example/é'] } },
    { id: '12-0', data: { tags: [], keys: [] } },
    { event: 'reset', id: '13-0', data: { reason: 'clear-all' } },
    { event: 'reset', data: { reason: 'trimmed' } },
  ];
  const text = encodeSseRetry(2500) + frames.map(encodeSseEvent).join(SSE_HEARTBEAT);
  const expected: PurgeFrame[] = [
    { id: '10-0', kind: 'position', tags: [], keys: [] },
    { id: '11-0', kind: 'purge', tags: ['user:42', 'posts'], keys: ['/api/a?x=1', 'https://app.example/é'] },
    { id: '12-0', kind: 'purge', tags: [], keys: [] },
    { id: '13-0', kind: 'reset', tags: [], keys: [] },
    // An event without an id keeps the stream's last one (HTML §9.2.6).
    { id: '13-0', kind: 'reset', tags: [], keys: [] },
  ];

  it('round-trips every frame, the heartbeats between them ignored', () => {
    expect(read(text)).toEqual({ frames: expected, retries: [2500] });
  });

  it('round-trips the same when the bytes arrive one at a time (a UTF-8 character split too)', () => {
    expect(read(text, 1)).toEqual({ frames: expected, retries: [2500] });
  });
});

describe('decodePurgeFrame', () => {
  const event = (type: string, data: string) => ({ type, data, lastEventId: '7-0' });

  it('skips event types it does not know', () => {
    expect(decodePurgeFrame(event('future', '{"tags":["a"]}'))).toBeUndefined();
  });

  it('reads data that is not JSON, or not an object, as a purge of nothing, keeping the id', () => {
    for (const data of ['not json', 'null', '42', '']) {
      expect(decodePurgeFrame(event('message', data))).toEqual({ id: '7-0', kind: 'purge', tags: [], keys: [] });
    }
  });

  it('keeps only the strings of tags and keys and ignores fields it does not know', () => {
    const frame = decodePurgeFrame(event('message', '{"tags":["a",1,null],"keys":"/x","v":2,"extra":{}}'));
    expect(frame).toEqual({ id: '7-0', kind: 'purge', tags: ['a'], keys: [] });
  });
});
