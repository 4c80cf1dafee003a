import { describe, expect, it } from 'vitest';
import { chartBySize } from './chart.js';

describe('chartBySize', () => {
  it('makes one group per size, in order, with one bar per series in order', () => {
    const chart = chartBySize({ title: 't', unit: 'ms', log: true }, [10, 1_000], (size) => `${size} entries`, [
      { name: 'strata', value: (size) => size / 10 },
      { name: 'baseline', value: (size) => size },
    ]);
    expect(Object.keys(chart)).toEqual(['title', 'unit', 'log', 'groups']);
    expect(chart).toMatchObject({ title: 't', unit: 'ms', log: true });
    const bars = chart.groups.map((group) => [group.label, group.bars.map((bar) => `${bar.series}=${bar.value}`)]);
    expect(bars).toEqual([
      ['10 entries', ['strata=1', 'baseline=10']],
      ['1000 entries', ['strata=100', 'baseline=1000']],
    ]);
  });
});
