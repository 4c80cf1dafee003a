import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Heap bytes in use after a full collection (gc exposed at run time: no `--expose-gc` flag needed). */
export function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
