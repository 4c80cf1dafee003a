import type { RouteStats } from '@strata/policy/protocol';
import { describe, expect, it } from 'vitest';
import { Stats } from '../src/stats.js';

describe('Stats', () => {
  it('counts per route and in total', async () => {
    const stats = new Stats();
    stats.bump('/a', 'hit');
    stats.bump('/a', 'hit');
    stats.bump('/b', 'purged', 3);
    const { routes, total } = await stats.snapshot();
    expect(routes['/a']).toMatchObject({ hit: 2, miss: 0, purged: 0 });
    expect(routes['/b']?.purged).toBe(3);
    expect(total).toMatchObject({ hit: 2, purged: 3, 'error-fallback': 0 });
  });

  it('adds the saved counts to those made while loading, ignoring malformed ones', async () => {
    let release!: (value: unknown) => void;
    const saved: Record<string, RouteStats>[] = [];
    const stats = new Stats(
      {
        load: () =>
          new Promise((resolve) => {
            release = resolve;
          }),
        save: async (routes) => {
          saved.push(structuredClone(routes));
        },
      },
      0,
    );
    stats.bump('/a', 'hit');
    const flushed = stats.saveSoon();
    release({ '/a': { hit: 5, miss: -1, stale: 1.5 }, '/b': 'nonsense', '/c': { purged: 2 } });
    await flushed;
    expect(saved).toHaveLength(1);
    expect(saved[0]?.['/a']).toMatchObject({ hit: 6, miss: 0, stale: 0 });
    expect(saved[0]?.['/c']?.purged).toBe(2);
    expect(saved[0]?.['/b']).toBeUndefined();
  });

  it('saves at most once per delay, and again after', async () => {
    let saves = 0;
    const stats = new Stats({ load: async () => undefined, save: async () => void saves++ }, 5);
    const first = stats.saveSoon();
    expect(stats.saveSoon()).toBe(first);
    await first;
    expect(saves).toBe(1);
    await stats.saveSoon();
    expect(saves).toBe(2);
  });
});
