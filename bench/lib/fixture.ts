/**
 * Stops a benchmark fixture process on SIGTERM or SIGINT, and when it has been orphaned (the
 * benchmark died without stopping it): `stop` runs once, whichever comes first.
 */
export function stopOnSignalOrOrphan(stop: () => void | Promise<void>): void {
  let stopping = false;
  const once = () => {
    if (stopping) return;
    stopping = true;
    void stop();
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) once();
  }, 500).unref();
}

/** Waits for `work`, at most `ms` (then calls `onTimeout`); leaves no timer behind either way. */
export function bounded(work: Promise<unknown>, ms: number, onTimeout: () => void = () => {}): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    work.then(done, done);
  });
}
