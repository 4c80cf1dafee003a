/** Time since the call, as `12.3 s`, for a benchmark's progress lines. */
export function stopwatch(): () => string {
  const started = performance.now();
  return () => `${((performance.now() - started) / 1_000).toFixed(1)} s`;
}
