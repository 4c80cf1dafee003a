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

export interface BenchResult {
  rows: Row[];
  aims: AimResult[];
  /** Extra lines printed under the table (workload description, derived ratios). */
  notes: string[];
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
