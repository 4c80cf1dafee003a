import type { BarChart } from './types.js';

/** One bar series of `chartBySize`: its name in the legend, and its value at each size. */
export interface SizeSeries {
  name: string;
  value(size: number): number;
}

/** A bar chart with one group per size (`label` names it) and one bar per series in each. */
export function chartBySize(
  chart: Omit<BarChart, 'groups'>,
  sizes: readonly number[],
  label: (size: number) => string,
  series: readonly SizeSeries[],
): BarChart {
  return {
    ...chart,
    groups: sizes.map((size) => ({
      label: label(size),
      bars: series.map((s) => ({ series: s.name, value: s.value(size) })),
    })),
  };
}
