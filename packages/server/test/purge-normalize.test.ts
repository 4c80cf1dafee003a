import { StrataError } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { urlTag } from '../src/cache/key.js';
import { mergeBatch } from '../src/purge/batch.js';
import {
  keyUrl,
  MAX_PURGE_ITEMS,
  normalizePurge,
  type PurgeRequest,
  purgeBody,
  tableTag,
} from '../src/purge/normalize.js';

/** The StrataError `normalizePurge` throws for `request`, or undefined when it accepts it. */
function rejection(request: unknown): StrataError | undefined {
  try {
    normalizePurge(request as PurgeRequest);
    return undefined;
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
}

describe('normalizePurge', () => {
  it.each([
    ['not an object', null, 'E_PURGE_INVALID', /needs an object/],
    ['a string', 'users', 'E_PURGE_INVALID', /needs an object/],
    ['nothing to purge', {}, 'E_PURGE_INVALID', /needs tags, keys, a pattern or a table/],
    ['empty lists', { tags: [], keys: [] }, 'E_PURGE_INVALID', /needs tags, keys, a pattern or a table/],
    ['tags not a list', { tags: 'users' }, 'E_PURGE_INVALID', /tags must be a list of strings/],
    ['a tag not a string', { tags: ['users', 1] }, 'E_PURGE_INVALID', /tags must be a list of strings/],
    [
      'too many tags',
      { tags: Array.from({ length: 1001 }, (_, i) => `t${i}`) },
      'E_PURGE_INVALID',
      /at most 1000 tags/,
    ],
    ['a tag with a comma', { tags: ['a,b'] }, 'E_TAG_INVALID', /./],
    ['a tag with a space', { tags: ['a b'] }, 'E_TAG_INVALID', /./],
    ['keys not a list', { keys: '/a' }, 'E_PURGE_INVALID', /keys must be a list of strings/],
    [
      'too many keys',
      { keys: Array.from({ length: 1001 }, (_, i) => `/k${i}`) },
      'E_PURGE_INVALID',
      /at most 1000 keys/,
    ],
    ['a key of another scheme', { keys: ['ftp://x/a'] }, 'E_URL_INVALID', /"ftp:\/\/x\/a" must be a path or an http/],
    ['a relative key', { keys: ['api/users'] }, 'E_URL_INVALID', /"api\/users" must be a path/],
    ['a key with a space', { keys: ['/a b'] }, 'E_URL_INVALID', /must be a path or an http/],
    ['a URL with a space', { keys: ['http://a.test/a b'] }, 'E_URL_INVALID', /must be a path or an http/],
    ['a key too long', { keys: [`/${'a'.repeat(2048)}`] }, 'E_URL_INVALID', /must be a path or an http/],
    ['a table not a string', { table: 7 }, 'E_PURGE_INVALID', /table must be a string/],
    ['an injected table', { table: 'users; drop table x' }, 'E_TABLE_INVALID', /"users; drop table x" is not a table/],
    ['a three-part table', { table: 'a.b.c' }, 'E_TABLE_INVALID', /is not a table name/],
    ['an empty pattern', { pattern: '' }, 'E_GLOB_INVALID', /pattern must be a glob of 1 to 1024/],
    ['a pattern not a string', { pattern: 3 }, 'E_GLOB_INVALID', /pattern must be a glob/],
    ['a pattern too long', { pattern: '*'.repeat(1025) }, 'E_GLOB_INVALID', /pattern must be a glob/],
    ['an empty partition', { tags: ['a'], partition: '' }, 'E_PURGE_INVALID', /partition must be a non-empty string/],
    ['a partition not a string', { tags: ['a'], partition: 1 }, 'E_PURGE_INVALID', /partition must be a non-empty/],
  ])('rejects %s with a StrataError naming it', (_, request, code, message) => {
    const error = rejection(request);
    expect(error?.code).toBe(code);
    expect(error?.message).toMatch(message);
  });

  it('accepts the limits themselves', () => {
    const tags = Array.from({ length: MAX_PURGE_ITEMS }, (_, i) => `t${i}`);
    expect(normalizePurge({ tags }).tags).toHaveLength(MAX_PURGE_ITEMS);
    expect(rejection({ keys: [`/${'a'.repeat(2047)}`] })).toBeUndefined();
    expect(rejection({ pattern: '*'.repeat(1024) })).toBeUndefined();
  });

  it('deduplicates tags and keys, keeping first-seen order', () => {
    expect(normalizePurge({ tags: ['b', 'a', 'b', 'a'], keys: ['/x', '/y', '/x'] })).toEqual({
      tags: ['b', 'a'],
      keys: ['/x', '/y'],
    });
  });

  it('resolves a table into its tag after the tags, and keeps pattern and partition', () => {
    expect(normalizePurge({ tags: ['users'], table: 'Billing.Invoices', pattern: 'GET *', partition: 'u1' })).toEqual({
      tags: ['users', 'table:billing.invoices'],
      keys: [],
      table: 'Billing.Invoices',
      pattern: 'GET *',
      partition: 'u1',
    });
    expect(tableTag('users')).toBe('table:public.users');
  });

  it('does not change the request it was given', () => {
    const request = { tags: ['a', 'a'], table: 'users' };
    normalizePurge(request);
    expect(request).toEqual({ tags: ['a', 'a'], table: 'users' });
  });
});

describe('purgeBody', () => {
  it('joins the pattern keys, deduplicates, and derives bumps and the CDN request', () => {
    const request = normalizePurge({ tags: ['users'], keys: ['/api/users', 'http://a.test/x'], partition: 'u1' });
    const body = purgeBody(request, ['http://a.test/x', 'http://a.test/y'], 42);
    expect(body.event).toEqual({
      tags: ['users'],
      keys: ['/api/users', 'http://a.test/x', 'http://a.test/y'],
      at: 42,
      partition: 'u1',
    });
    expect(body.bumps).toEqual(['users', ...body.event.keys.map(urlTag)]);
    // A bare path means nothing to a CDN: only absolute URLs go there.
    expect(body.cdn).toEqual({ tags: ['users'], urls: ['http://a.test/x', 'http://a.test/y'], all: false });
  });

  it('names no partition when the request has none', () => {
    expect('partition' in purgeBody(normalizePurge({ tags: ['a'] }), [], 1).event).toBe(false);
  });

  it('keyUrl reads the URL of GET and HEAD keys only', () => {
    expect(keyUrl('GET https://a.test/x?y=1')).toBe('https://a.test/x?y=1');
    expect(keyUrl('HEAD http://a.test/x #accept=json')).toBe('http://a.test/x');
    expect(keyUrl('POST http://a.test/x')).toBeUndefined();
    expect(keyUrl('query:users:abc')).toBeUndefined();
  });
});

describe('mergeBatch', () => {
  it('joins tags and keys deduplicated and keeps each pattern', () => {
    const merged = mergeBatch([
      normalizePurge({ tags: ['users', 'user:1'] }),
      normalizePurge({ tags: ['users', 'user:2'], keys: ['/api/users'], pattern: 'GET *' }),
      normalizePurge({ table: 'users' }),
    ]);
    expect(merged.request).toEqual({ tags: ['users', 'user:1', 'user:2', 'table:public.users'], keys: ['/api/users'] });
    expect(merged.patterns).toEqual(['GET *']);
  });

  it('takes a batch of pattern purges alone as a purge', () => {
    const merged = mergeBatch([normalizePurge({ pattern: 'GET /a*' }), normalizePurge({ pattern: 'GET /b*' })]);
    expect(merged).toEqual({ request: { tags: [], keys: [] }, patterns: ['GET /a*', 'GET /b*'] });
  });

  it('names a partition only when every purge names the same one', () => {
    expect(mergeBatch([normalizePurge({ tags: ['a'], partition: 'p' })]).request.partition).toBe('p');
    const same = mergeBatch([
      normalizePurge({ tags: ['a'], partition: 'p' }),
      normalizePurge({ tags: ['b'], partition: 'p' }),
    ]);
    expect(same.request.partition).toBe('p');
    const mixed = mergeBatch([normalizePurge({ tags: ['a'], partition: 'p' }), normalizePurge({ tags: ['b'] })]);
    expect(mixed.request.partition).toBeUndefined();
  });
});
