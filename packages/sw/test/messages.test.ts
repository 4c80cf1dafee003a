import { describe, expect, it } from 'vitest';
import { errorReply, MAX_ITEMS, parseMessage } from '../src/messages.js';

const base = 'https://app.example';
const parse = (data: unknown) => parseMessage(data, base);
const errorOf = (data: unknown): string => {
  const parsed = parse(data);
  if (!parsed || !('error' in parsed)) throw new Error(`expected an error for ${JSON.stringify(data)}`);
  expect(parsed.error.code).toBe('E_MESSAGE_INVALID');
  expect(parsed.error.name).toBe('StrataError');
  return parsed.error.message;
};

describe('worker message validation', () => {
  it('ignores messages that are not Strata’s', () => {
    for (const data of [null, undefined, 42, 'strata:purge', [], {}, { type: 1 }, { type: 'app:purge' }]) {
      expect(parse(data)).toBeUndefined();
    }
  });

  it('accepts the protocol’s messages', () => {
    expect(
      parse({ type: 'strata:purge', id: 'p1', tags: ['users', 'user:42'], keys: ['/a', 'https://app.example/b?x=1'] }),
    ).toEqual({
      message: {
        type: 'strata:purge',
        id: 'p1',
        tags: ['users', 'user:42'],
        keys: ['/a', 'https://app.example/b?x=1'],
      },
    });
    expect(parse({ type: 'strata:purge', tags: ['t'] })).toEqual({
      message: { type: 'strata:purge', tags: ['t'], keys: [] },
    });
    expect(parse({ type: 'strata:reset', id: 3 })).toEqual({ message: { type: 'strata:reset', id: 3 } });
    expect(parse({ type: 'strata:set-user', user: 'alice' })).toEqual({
      message: { type: 'strata:set-user', user: 'alice' },
    });
    expect(parse({ type: 'strata:set-user', user: null })).toEqual({
      message: { type: 'strata:set-user', user: null },
    });
    expect(parse({ type: 'strata:logout' })).toEqual({ message: { type: 'strata:logout' } });
    expect(parse({ type: 'strata:stats' })).toEqual({ message: { type: 'strata:stats' } });
  });

  it('accepts a purge event of a newer format as the page forwards it: tags and keys kept, other fields ignored', () => {
    const event = { v: 2, id: '9-0', tags: ['users'], keys: ['/a'], at: 5, scope: 'eu', hints: { n: 1 } };
    const parsed = parse({ ...event, type: 'strata:purge' });
    expect(parsed).toMatchObject({ message: { type: 'strata:purge', id: '9-0', tags: ['users'], keys: ['/a'] } });
    // A reset event (one that drops everything tagged) comes as strata:reset, its fields ignored too.
    const reset = { v: 2, id: '10-0', tags: [], keys: [], all: true, reason: 'moved', at: 6, extra: [1] };
    expect(parse({ ...reset, type: 'strata:reset' })).toMatchObject({ message: { type: 'strata:reset', id: '10-0' } });
  });

  it('rejects malformed Strata messages with a message naming the problem, keeping the id to reply to', () => {
    expect(errorOf({ type: 'strata:nope' })).toMatch(/unknown message type/);
    expect(errorOf({ type: 'strata:purge', tags: 'users', keys: [] })).toMatch(/tags and keys must be arrays/);
    expect(errorOf({ type: 'strata:purge', tags: ['has space'], keys: [] })).toMatch(/printable ASCII/);
    expect(errorOf({ type: 'strata:purge', tags: [''], keys: [] })).toMatch(/non-empty/);
    expect(errorOf({ type: 'strata:purge', tags: [], keys: [42] })).toMatch(/key 42 is not a URL or a path/);
    expect(errorOf({ type: 'strata:purge', tags: [], keys: ['http://['] })).toMatch(/not a URL/);
    expect(errorOf({ type: 'strata:purge', tags: Array(MAX_ITEMS + 1).fill('t'), keys: [] })).toMatch(/at most/);
    expect(errorOf({ type: 'strata:set-user', user: '' })).toMatch(/user must be/);
    expect(errorOf({ type: 'strata:set-user' })).toMatch(/user must be/);
    expect(errorOf({ type: 'strata:logout', user: 7 })).toMatch(/user must be/);
    expect(errorOf({ type: 'strata:stats', id: { x: 1 } })).toMatch(/id must be/);
    expect(parse({ type: 'strata:purge', id: 'x', tags: 5, keys: [] })).toMatchObject({ id: 'x' });
    expect(parse({ type: 'strata:stats', id: { x: 1 } })).not.toHaveProperty('id');
  });

  it('turns any thrown value into an error reply', () => {
    expect(errorReply(new TypeError('boom'), 'a')).toEqual({
      type: 'strata:error',
      id: 'a',
      error: { code: 'E_SW_FAILED', message: 'boom' },
    });
    expect(errorReply(Object.assign(new Error('x'), { code: 'E_X' }), undefined)).toEqual({
      type: 'strata:error',
      error: { code: 'E_X', message: 'x' },
    });
    expect(errorReply('plain', 1)).toMatchObject({ error: { message: 'plain' } });
  });
});
