/**
 * What the memory benchmark reads from a demo process (started with `startDemo` from
 * e2e/demo-process.ts): its resident memory, its cache's size, and a way to fill that cache.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Resident set size of a process, in bytes: VmRSS from /proc, else `ps`. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kib = status ? /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] : undefined;
  if (kib) return Number(kib) * 1024;
  const ps = await new Promise<string>((resolve, reject) =>
    execFile('ps', ['-o', 'rss=', '-p', String(pid)], (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  return Number(ps.trim()) * 1024;
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
let ticksPerSecond: Promise<number> | undefined;
const clockTicks = (): Promise<number> =>
  (ticksPerSecond ??= new Promise<number>((resolve) =>
    execFile('getconf', ['CLK_TCK'], (error, stdout) => resolve(error ? 100 : Number(stdout.trim()) || 100)),
  ));

/**
 * CPU time a process has used so far, user and system, all its threads, in ms (/proc/<pid>/stat);
 * undefined where /proc is not there. Resolution: one clock tick (10 ms).
 */
export async function cpuTimeMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The name (field 2) is in parentheses and may hold spaces or parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1_000) / (await clockTicks()) : undefined;
}

/** `GET <url>/api/v1/cache/stats` with the admin token. */
export async function cacheStats(url: string, token: string): Promise<{ store: { entries?: number; bytes?: number } }> {
  const response = await fetch(`${url}/api/v1/cache/stats`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`GET /api/v1/cache/stats answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { store: { entries?: number; bytes?: number } };
}

/** GETs every path, `concurrency` at a time; each must answer 200. `progress` hears every 5 s how many are done. */
export async function getAll(
  base: string,
  paths: readonly string[],
  concurrency: number,
  progress: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const timer = setInterval(() => progress(done), 5_000);
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < paths.length) {
          const path = paths[next++] as string;
          const response = await fetch(`${base}${path}`);
          const body = await response.text();
          if (response.status !== 200)
            throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 200)}`);
          done++;
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
}
