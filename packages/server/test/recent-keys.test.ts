import { describe, expect, it } from 'vitest';
import { RecentKeys } from '../src/cache/recent-keys.js';

describe('RecentKeys', () => {
  it('keeps the most recently touched keys up to its limit, oldest first', () => {
    const recent = new RecentKeys<{ n: number }>(3);
    for (const key of ['a', 'b', 'c']) recent.touch(key, () => ({ n: 0 })).n++;
    recent.touch('a', () => ({ n: 0 })).n++; // a is now the most recent
    recent.touch('d', () => ({ n: 0 })).n++; // b, the oldest, goes
    expect([...recent].map(([key, { n }]) => [key, n])).toEqual([
      ['c', 1],
      ['a', 2],
      ['d', 1],
    ]);
    expect(recent.size).toBe(3);
    expect(recent.get('b')).toBeUndefined();
  });

  it('makes a record only for a key it does not hold', () => {
    const recent = new RecentKeys<object>(2);
    const first = recent.touch('k', () => ({}));
    expect(recent.touch('k', () => ({}))).toBe(first);
  });
});
