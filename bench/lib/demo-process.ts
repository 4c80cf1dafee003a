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
