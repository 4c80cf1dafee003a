import type { Row } from './table.js';

/** What the runner hands to every benchmark. */
export interface BenchOptions {
  /** Smoke mode: short time budgets, for CI and quick checks. The numbers are only indicative. */
  quick: boolean;
  /** Progress output; one line per call. */
  log: (line: string) => void;
}

/** One stated aim and whether this run met it. */
export interface AimResult {
  /** The aim, e.g. "cost at 1,000 routes within 2× of 10 routes". */
  aim: string;
  met: boolean;
  /** The measured value behind the verdict, e.g. "1.31×". */
  measured: string;
}

/** One bar of a chart: a value of one series (a layer, an implementation) in one group. */
export interface Bar {
  series: string;
  value: number;
}

/**
 * A grouped bar chart, drawn as an SVG beside RESULTS.md: one group per case (a route, a
 * concurrency), one bar per series in it, the baseline's among them, so bars compare at a glance.
 */
export interface BarChart {
  title: string;
  /** The values' unit, shown on the axis: `ms`, `req/s`, `×`… */
  unit: string;
  groups: { label: string; bars: Bar[] }[];
  /** A log scale, for values spanning orders of magnitude. */
  log?: boolean;
}

export interface BenchResult {
  rows: Row[];
  aims: AimResult[];
  /** Extra lines printed under the table (workload description, derived ratios). */
  notes: string[];
  /** The chart RESULTS.md embeds for this benchmark. */
  chart?: BarChart;
}

/** The default export of every `bench/*.bench.ts` module. */
export interface BenchModule {
  name: string;
  aim: string;
  run(opts: BenchOptions): Promise<BenchResult>;
}

export function isBenchModule(value: unknown): value is BenchModule {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.aim === 'string' && typeof v.run === 'function';
}
