import { describe, expect, it } from 'vitest';
import { invalidateBody } from '../src/admin/actions.js';
import { isDegraded, outageText } from '../src/admin/stats-panel.js';
import { matchPattern, touches } from '../src/router.js';
import type { CacheStats } from '../src/types.js';
import { pageNumber, usersPath } from '../src/views/users.js';

describe('matchPattern', () => {
  it('matches literal segments and captures parameters', () => {
    expect(matchPattern('/users/:id/edit', '/users/42/edit')).toEqual({ id: '42' });
    expect(matchPattern('/users', '/users/')).toEqual({});
    expect(matchPattern('/', '/')).toEqual({});
  });

  it('rejects other paths', () => {
    expect(matchPattern('/users/:id', '/users/42/edit')).toBeUndefined();
    expect(matchPattern('/users/:id', '/dashboard/1')).toBeUndefined();
    expect(matchPattern('/', '/users')).toBeUndefined();
  });
});

describe('touches', () => {
  it('is true when a purged tag is on screen', () => {
    expect(touches(['users', 'dashboard', 'me'], ['user:3', 'users'])).toBe(true);
    expect(touches(['user:1'], ['user:12', 'users'])).toBe(false);
    expect(touches([], ['users'])).toBe(false);
  });
});

describe('users pages', () => {
  it('reads the page number, defaulting to 1', () => {
    expect(pageNumber(new URLSearchParams('page=3'))).toBe(3);
    expect(pageNumber(new URLSearchParams('page=0'))).toBe(1);
    expect(pageNumber(new URLSearchParams('page=abc'))).toBe(1);
    expect(pageNumber(new URLSearchParams(''))).toBe(1);
  });

  it('requests the first page without a query, like the warmer', () => {
    expect(usersPath(1)).toBe('/api/v1/users');
    expect(usersPath(2)).toBe('/api/v1/users?page=2');
  });
});

describe('invalidateBody', () => {
  it('sends one tag, key or pattern', () => {
    expect(invalidateBody('tag', 'user:1')).toEqual({ tags: ['user:1'] });
    expect(invalidateBody('key', '/api/v1/users/1')).toEqual({ keys: ['/api/v1/users/1'] });
    expect(invalidateBody('pattern', '/api/v1/users*')).toEqual({ pattern: '/api/v1/users*' });
    expect(invalidateBody('tag', 'user:1', 'soft')).toEqual({ tags: ['user:1'], mode: 'soft' });
    expect(invalidateBody('key', '/api/v1/users/1', 'soft')).toEqual({ keys: ['/api/v1/users/1'], mode: 'soft' });
    expect(invalidateBody('pattern', '/api/v1/users*', 'soft')).toEqual({ pattern: '/api/v1/users*' });
  });
});

describe('the outage banner', () => {
  const stats = (store: Partial<CacheStats['store']>, outbox = 0) =>
    ({ store: { level: 'REDIS', circuit: 'closed', healthy: true, failures: 0, ...store }, outbox }) as CacheStats;

  it('shows while the store is unhealthy or purges are queued', () => {
    expect(isDegraded(stats({}))).toBe(false);
    expect(isDegraded(stats({ circuit: 'open', healthy: false }))).toBe(true);
    expect(isDegraded(stats({ circuit: 'half-open' }))).toBe(true);
    expect(isDegraded(stats({}, 2))).toBe(true);
  });

  it('names the store and the queued purges', () => {
    expect(outageText(stats({ circuit: 'open', healthy: false }, 3))).toBe(
      'Redis unreachable: serving from the origin (BYPASS); 3 purges queued',
    );
    expect(outageText(stats({ healthy: false }, 1))).toBe(
      'Redis unreachable: serving from the origin (BYPASS); 1 purge queued',
    );
  });
});
