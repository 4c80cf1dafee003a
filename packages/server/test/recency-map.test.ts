import { describe, expect, it } from 'vitest';
import { RecencyMap } from '../src/cache/recency-map.js';
import { countMapCalls } from './helpers/map-calls.js';

const keysOf = (map: RecencyMap<unknown>) => [...map].map(([key]) => key);

describe('RecencyMap', () => {
  it('keeps keys oldest first: set and touch move a key last, get leaves it', () => {
    const map = new RecencyMap<number>();
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) map.set(key, i);
    expect(map.touch('a')).toBe(0);
    expect(map.get('b')).toBe(1);
    map.set('c', 20);
    expect(keysOf(map)).toEqual(['b', 'd', 'a', 'c']);
    expect(map.get('c')).toBe(20);
    expect(map.touch('missing')).toBeUndefined();
    expect(map.size).toBe(4);
  });

  it('shifts the least recently used key, deletes any, and empties', () => {
    const map = new RecencyMap<string>();
    for (const key of ['a', 'b', 'c']) map.set(key, key.toUpperCase());
    map.touch('a');
    expect(map.shift()).toEqual(['b', 'B']);
    expect(map.delete('a')).toBe(true);
    expect(map.delete('a')).toBe(false);
    expect(keysOf(map)).toEqual(['c']);
    map.clear();
    expect(map.size).toBe(0);
    expect(map.shift()).toBeUndefined();
    map.set('z', 'Z');
    expect([...map]).toEqual([['z', 'Z']]);
  });

  it('lets a loop delete the entry it was just given', () => {
    const map = new RecencyMap<number>();
    for (let i = 0; i < 10; i++) map.set(`k${i}`, i);
    for (const [key, value] of map) if (value % 2 === 0) map.delete(key);
    expect(keysOf(map)).toEqual(['k1', 'k3', 'k5', 'k7', 'k9']);
  });

  it('evicts in recency order at 100,000 keys', () => {
    const map = new RecencyMap<number>();
    const n = 100_000;
    for (let i = 0; i < n; i++) map.set(`k${i}`, i);
    for (let i = 0; i < n; i += 2) map.touch(`k${i}`); // the even keys become the most recent
    const order: number[] = [];
    for (let shifted = map.shift(); shifted; shifted = map.shift()) order.push(shifted[1]);
    const odd = Array.from({ length: n / 2 }, (_, i) => 2 * i + 1);
    expect(order).toEqual([...odd, ...odd.map((i) => i - 1)]);
  });

  it('touches and evicts without rewriting or iterating its index', async () => {
    // V8 keeps a deleted Map slot until the table is rebuilt: a key deleted and set again on
    // every touch, or an eviction that iterates from the front, walks every such slot, which
    // makes each O(size). Counted here, not timed.
    const map = new RecencyMap<number>();
    for (let i = 0; i < 10_000; i++) map.set(`k${i}`, i);
    const index = (held: Map<unknown, unknown>) => held.size >= 10_000; // the map's index, not any other
    const calls = await countMapCalls(() => {
      for (let i = 0; i < 10_000; i++) map.touch('k5000');
      for (let i = 0; i < 10_000; i++) map.set(`k${i % 100}`, i);
    }, index);
    expect(calls).toEqual({ set: 0, delete: 0, iterations: 0 });

    const evicting = await countMapCalls(() => {
      for (let i = 10_000; i < 20_000; i++) {
        map.set(`k${i}`, i);
        map.shift();
      }
    }, index);
    expect(evicting).toEqual({ set: 10_000, delete: 10_000, iterations: 0 });
  });
});
