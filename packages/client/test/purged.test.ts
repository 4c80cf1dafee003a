import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { names } from '../src/bridges/purged.js';

// `names` resolves paths against the page's location; the page here is a plain URL.
beforeAll(() => vi.stubGlobal('location', new URL('https://app.example/dashboard')));
afterAll(() => vi.unstubAllGlobals());

const purge = (tags: string[], keys: string[] = []) => ({ id: '1', tags, keys, evicted: 0 });

describe('which data cache entries a purge names', () => {
  it('by any tag', () => {
    expect(names(purge(['user:1', 'users']), { tags: ['users'], url: undefined })).toBe(true);
    expect(names(purge(['user:2']), { tags: ['user:1'], url: '/api/users/1' })).toBe(false);
  });

  it('by URL: a key without a query names every query of its path, one with a query only that URL', () => {
    const entry = { tags: [], url: '/api/users?page=2' };
    expect(names(purge([], ['/api/users']), entry)).toBe(true);
    expect(names(purge([], ['https://app.example/api/users?page=2']), entry)).toBe(true);
    expect(names(purge([], ['/api/users?page=3']), entry)).toBe(false);
    expect(names(purge([], ['/api/users/1']), entry)).toBe(false);
    expect(names(purge([], ['https://other.example/api/users']), entry)).toBe(false);
  });
});
