import { Bench, type FnReturnedObject } from 'tinybench';
import { median } from './latency.js';
import type { BenchOptions } from './types.js';

/** A task that performs `size` operations per call and returns a number derived from their results. */
export interface BatchTask {
  label: string;
  size: number;
  batch: () => number;
}

export interface Measured {
  /** Operations per second: 1 / median cost of one operation over all batches. */
  opsPerSec: number;
  /** Median absolute deviation of the per-batch cost, in percent of the median. */
  spread: number;
  /** Batches measured, over all rounds. */
  samples: number;
}

/** Keeps results observable so the engine cannot drop the measured work. */
const sink = { value: 0 };

/** How measureBatches spends its time, per mode (per task: rounds × (warm-up + time) ms, at least). */
const plan = (quick: boolean) =>
  quick
    ? { rounds: 1, time: 150, iterations: 5, warmupTime: 50, warmupIterations: 3 }
    : { rounds: 5, time: 400, iterations: 8, warmupTime: 100, warmupIterations: 3 };

/**
 * Times batched tasks with tinybench. Each sample is the mean cost of one operation within one
 * batch, which keeps timer overhead out of sub-microsecond operations. The tasks run in
 * interleaved rounds (each warmed up first) and the samples of all rounds are pooled; the median
 * batch is reported, so drift and bursts of load on a shared machine weigh little.
 */
export async function measureBatches(
  tasks: readonly BatchTask[],
  { quick, log }: BenchOptions,
): Promise<Map<string, Measured>> {
  const { rounds, ...budget } = plan(quick);
  const samples = new Map<string, number[]>(tasks.map((t) => [t.label, []]));
  for (let round = 1; round <= rounds; round++) {
    const bench = new Bench({ ...budget, retainSamples: true, throws: true });
    for (const task of tasks) {
      bench.add(
        task.label,
        (): FnReturnedObject => {
          const start = performance.now();
          sink.value ^= task.batch();
          const elapsed = performance.now() - start;
          return { overriddenDuration: elapsed / task.size, overriddenIterationCost: elapsed };
        },
        { async: false },
      );
    }
    for (const task of await bench.run()) {
      const { result } = task;
      if (result.state !== 'completed') throw new Error(`benchmark task '${task.name}' ended ${result.state}`);
      samples.get(task.name)?.push(...(result.latency.samples ?? []));
      const ops = 1_000 / result.latency.p50;
      log(`  round ${round}/${rounds} ${task.name}: ${Math.round(ops).toLocaleString('en-US')} ops/s`);
    }
  }
  const results = new Map<string, Measured>();
  for (const [label, costs] of samples) {
    if (costs.length === 0) throw new Error(`benchmark task '${label}' produced no samples`);
    const mid = median(costs);
    const mad = median(costs.map((c) => Math.abs(c - mid)));
    results.set(label, { opsPerSec: 1_000 / mid, spread: (100 * mad) / mid, samples: costs.length });
  }
  return results;
}
