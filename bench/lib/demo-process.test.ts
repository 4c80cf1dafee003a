import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuTimeMs } from './demo-process.js';

describe.runIf(existsSync('/proc/self/stat'))('cpuTimeMs', () => {
  it('reads the CPU time this process has used, as getrusage counts it', async () => {
    const before = await cpuTimeMs(process.pid);
    const usage = process.cpuUsage();
    expect(before).toBeGreaterThan(0);
    // Busy until getrusage says 200 ms of CPU more, however loaded the machine is.
    let spin = 0;
    while ((process.cpuUsage(usage).user + process.cpuUsage(usage).system) / 1_000 < 200) spin++;
    const used = (process.cpuUsage(usage).user + process.cpuUsage(usage).system) / 1_000;
    const after = (await cpuTimeMs(process.pid)) as number;
    expect(spin).toBeGreaterThan(0);
    // /proc counts in 10 ms ticks; reading it costs a little CPU of its own.
    expect(after - (before as number)).toBeGreaterThanOrEqual(used - 20);
    expect(after - (before as number)).toBeLessThanOrEqual(used + 40);
  });

  it('is undefined for a process that does not exist', async () => {
    expect(await cpuTimeMs(2 ** 22 + 1)).toBeUndefined();
  });
});
