export interface MapCalls {
  set: number;
  delete: number;
  /** Iterations begun (`entries`, `keys`, `values`, `forEach`, `for…of`). */
  iterations: number;
}

type Method = (this: Map<unknown, unknown>, ...args: unknown[]) => unknown;

const ITERATIONS = ['entries', 'keys', 'values', 'forEach', Symbol.iterator] as const;

/**
 * Counts the calls `run` makes on maps `counted` accepts (given the map, and the key for `set`
 * and `delete`): a way to check that a structure's work per operation does not grow with its
 * size without timing it. Every `Map` is watched while `run` runs, so `counted` should pick out
 * the maps under test (by size, by key) from any other code's; it sees a map as it is before the
 * call.
 */
export async function countMapCalls(
  run: () => unknown,
  counted: (map: Map<unknown, unknown>, key?: unknown) => boolean = () => true,
): Promise<MapCalls> {
  const calls: MapCalls = { set: 0, delete: 0, iterations: 0 };
  const proto = Map.prototype as unknown as Record<PropertyKey, Method>;
  const originals: [PropertyKey, Method][] = [];
  const watch = (name: PropertyKey, count: (map: Map<unknown, unknown>, key: unknown) => void) => {
    const original = proto[name] as Method;
    originals.push([name, original]);
    proto[name] = function (this: Map<unknown, unknown>, ...args: unknown[]) {
      count(this, args[0]);
      return original.apply(this, args);
    };
  };
  watch('set', (map, key) => counted(map, key) && calls.set++);
  watch('delete', (map, key) => counted(map, key) && calls.delete++);
  for (const name of ITERATIONS) watch(name, (map) => counted(map) && calls.iterations++);
  try {
    await run();
  } finally {
    for (const [name, original] of originals) proto[name] = original;
  }
  return calls;
}
