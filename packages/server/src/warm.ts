import { StrataError } from '@strata/policy';
export interface WarmJobOptions {
  /** Run again every N seconds. */
  intervalSeconds?: number;
  /** Run once when `start()` is called (createStrata's caller decides when the app is ready). */
  onStartup?: boolean;
}

export interface WarmRun {
  startedAt: string;
  durationMs: number;
  ok: boolean;
  error?: string;
}

export interface WarmJobStatus {
  name: string;
  running: boolean;
  runs: number;
  failures: number;
  intervalSeconds?: number;
  lastRun?: WarmRun;
  lastFailure?: WarmRun;
}

interface Job {
  fn: () => Promise<unknown>;
  options: WarmJobOptions;
  running?: Promise<WarmRun> | undefined;
  timer?: ReturnType<typeof setInterval> | undefined;
  status: WarmJobStatus;
}

/**
 * Cache warming: named jobs that fill the caches ahead of traffic. A job never overlaps itself
 * (a run requested while one is going joins it), and failures are kept with their time.
 */
export class Warmer {
  readonly #jobs = new Map<string, Job>();
  readonly #now: () => number;
  #started = false;

  constructor(options: { now: () => number }) {
    this.#now = options.now;
  }

  register(name: string, fn: () => Promise<unknown>, options: WarmJobOptions = {}): void {
    if (this.#jobs.has(name)) throw new StrataError('E_WARM_JOB_EXISTS', `warm job '${name}' is already registered`);
    const status: WarmJobStatus = { name, running: false, runs: 0, failures: 0 };
    if (options.intervalSeconds !== undefined) status.intervalSeconds = options.intervalSeconds;
    const job: Job = { fn, options, status };
    this.#jobs.set(name, job);
    if (this.#started) this.#schedule(name, job);
  }

  /** Starts interval timers and runs the `onStartup` jobs; resolves when those first runs end. */
  async start(): Promise<WarmRun[]> {
    this.#started = true;
    const startup: Promise<WarmRun>[] = [];
    for (const [name, job] of this.#jobs) startup.push(...this.#schedule(name, job));
    return Promise.all(startup);
  }

  #schedule(name: string, job: Job): Promise<WarmRun>[] {
    if (job.options.intervalSeconds && !job.timer) {
      job.timer = setInterval(() => void this.run(name), job.options.intervalSeconds * 1000);
      job.timer.unref?.();
    }
    return job.options.onStartup ? [this.run(name)] : [];
  }

  /** Runs one job now; if it is already running, resolves with that run. */
  run(name: string): Promise<WarmRun> {
    const job = this.#jobs.get(name);
    if (!job) return Promise.reject(new StrataError('E_WARM_JOB_UNKNOWN', `no warm job named '${name}'`));
    if (job.running) return job.running;
    const started = this.#now();
    job.status.running = true;
    job.running = (async (): Promise<WarmRun> => {
      const run: WarmRun = { startedAt: new Date(started).toISOString(), durationMs: 0, ok: true };
      try {
        await job.fn();
      } catch (error) {
        run.ok = false;
        run.error = error instanceof Error ? error.message : String(error);
      }
      run.durationMs = this.#now() - started;
      job.status.runs++;
      job.status.lastRun = run;
      if (!run.ok) {
        job.status.failures++;
        job.status.lastFailure = run;
      }
      return run;
    })().finally(() => {
      job.running = undefined;
      job.status.running = false;
    });
    return job.running;
  }

  names(): string[] {
    return [...this.#jobs.keys()];
  }

  status(): WarmJobStatus[] {
    return [...this.#jobs.values()].map((job) => ({ ...job.status }));
  }

  close(): void {
    for (const job of this.#jobs.values()) {
      if (job.timer) clearInterval(job.timer);
      job.timer = undefined;
    }
    this.#started = false;
  }
}
