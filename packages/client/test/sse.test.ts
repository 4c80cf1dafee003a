import { isStrataError } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { MAX_EVENT_CHARS, type SseEvent, SseParser } from '../src/sse.js';

/** Parses `chunks` (strings are UTF-8 encoded, arrays are raw bytes), then ends the stream. */
function parse(chunks: (string | number[])[], end = true): { events: SseEvent[]; retries: number[] } {
  const events: SseEvent[] = [];
  const retries: number[] = [];
  const parser = new SseParser({ event: (e) => events.push(e), retry: (ms) => retries.push(ms) });
  for (const chunk of chunks) {
    parser.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
  }
  if (end) parser.end();
  return { events, retries };
}

const message = (data: string, lastEventId = '', type = 'message'): SseEvent => ({ type, data, lastEventId });

describe('SseParser (HTML §9.2.6)', () => {
  it('dispatches on a blank line, joins data lines with LF, and names the type', () => {
    const { events } = parse(['id: 7\nevent: reset\ndata: {"a":\ndata: 1}\n\n', 'data: x\n\n']);
    expect(events).toEqual([message('{"a":\n1}', '7', 'reset'), message('x', '7')]);
  });

  it('accepts CRLF, LF and CR line ends, also split across chunks, counting a split CRLF once', () => {
    expect(parse(['data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r', '\n\r', '\n']).events).toEqual([
      message('a'),
      message('b'),
      message('c'),
      message('d'),
    ]);
    // A CR ending a chunk dispatches at once: the event does not wait for the next byte.
    const events: SseEvent[] = [];
    const parser = new SseParser({ event: (e) => events.push(e), retry: () => undefined });
    parser.push(new TextEncoder().encode('data: now\r\r'));
    expect(events).toEqual([message('now')]);
    parser.push(new TextEncoder().encode('\ndata: next\n\n')); // the LF after the CR is not a blank line
    expect(events).toEqual([message('now'), message('next')]);
  });

  it('decodes UTF-8 split across chunks and strips one leading BOM only', () => {
    const bytes = [...new TextEncoder().encode('data: é€\n\n')];
    const { events } = parse([[0xef, 0xbb], [0xbf, ...bytes.slice(0, 8)], bytes.slice(8)]);
    expect(events).toEqual([message('é€')]);
    // A second BOM is data: the field name is then not `data`, and the line is ignored.
    expect(parse(['\uFEFF\uFEFFdata: x\n\n']).events).toEqual([]);
  });

  it('ignores comments, unknown fields, an id holding NUL, and a retry that is not all digits', () => {
    const { events, retries } = parse([
      ': heartbeat\n',
      'id: 1\nid: 2\0x\nretry: 15x\nretry: 250\nfoo: bar\ndata\ndata:no-space\n\n',
    ]);
    expect(events).toEqual([message('\nno-space', '1')]);
    expect(retries).toEqual([250]);
  });

  it('keeps the last event id across events and resets it with an empty id; no dispatch without data', () => {
    const { events } = parse(['id: 5\n\n', 'data: a\n\n', 'id\ndata: b\n\n', 'event: reset\n\ndata: c\n\n']);
    // `id: 5` with no data dispatches nothing but sets the id; the type of a data-less event does not leak.
    expect(events).toEqual([message('a', '5'), message('b', ''), message('c', '')]);
  });

  it('drops an event the stream ends in the middle of, and a line with no end', () => {
    expect(parse(['data: whole\n\ndata: half\n']).events).toEqual([message('whole')]);
    expect(parse(['data: whole\n\ndata: no end']).events).toEqual([message('whole')]);
    // A CR as the very last byte still ends the blank line: that event was complete.
    expect(parse(['data: last\r\r']).events).toEqual([message('last')]);
  });

  it('refuses a line that never ends beyond the bound, with a StrataError', () => {
    const parser = new SseParser({ event: () => undefined, retry: () => undefined });
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let failure: unknown;
    try {
      for (let sent = 0; sent <= MAX_EVENT_CHARS; sent += chunk.length) parser.push(chunk);
    } catch (error) {
      failure = error;
    }
    expect(isStrataError(failure) && failure.code).toBe('E_STREAM_FAILED');
  });
});
