import { StrataError } from '@strata/policy';
import type { Store } from './types.js';

export interface ResilienceOptions {
  /** Longest wait for one store operation before it counts as failed. Default 100 ms. */
  timeoutMs?: number;
  /**
   * Consecutive failures that open the circuit — provided they are at least half of the
   * operations that ended in the last two seconds, so a busy instance whose store answers most
   * calls keeps its cache. Default 5.
   */
  failureThreshold?: number;
  /** How long an open circuit rejects at once before one trial call. Default 5,000 ms. */
  resetAfterMs?: number;
  /**
   * Longest wait for the store's first connection (see `Store.ready`) before an operation issued
   * meanwhile counts as failed; the operation's own `timeoutMs` starts once it is open. Default 2,000 ms.
   */
  connectTimeoutMs?: number;
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface StoreHealth {
  level: string;
  circuit: CircuitState;
  healthy: boolean;
  operations: number;
  failures: number;
  timeouts: number;
  /** Calls refused without trying because the circuit was open. */
  shortCircuited: number;
  lastError?: { message: string; at: string };
}

export interface ResilientStore extends Store {
  health(): StoreHealth;
}

const METHODS = [
  'read',
  'write',
  'versions',
  'bump',
  'softBump',
  'softMarks',
  'delete',
  'clear',
  'lease',
  'unlease',
] as const;

/**
 * `size()` feeds monitoring and `keys()` serves pattern purges: both scan the whole store (a
 * SCAN, or a memory scan that yields to the event loop as it goes), so they get longer timeouts
 * of their own and never trip the breaker.
 */
const SCAN_TIMEOUT_MS = { size: 2_000, keys: 30_000 };

/**
 * Wraps any store with a per-operation timeout and a circuit breaker, so drivers stay simple
 * and a dead or slow backend costs the request at most one timeout — then nothing, while the
 * circuit is open. Failures reject with a StrataError (E_STORE_TIMEOUT, E_CIRCUIT_OPEN,
 * E_STORE_UNAVAILABLE) for the cache above to fall back to the origin, and every one is
 * counted in `health()`.
 */
export function resilientStore(store: Store, options: ResilienceOptions = {}): ResilientStore {
  const timeoutMs = options.timeoutMs ?? 100;
  const threshold = options.failureThreshold ?? 5;
  const resetAfterMs = options.resetAfterMs ?? 5_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const now = options.now ?? Date.now;
  let circuit: CircuitState = 'closed';
  let consecutive = 0;
  let openedAt = 0;
  let trial = false;
  const health: Omit<StoreHealth, 'circuit' | 'healthy' | 'level'> = {
    operations: 0,
    failures: 0,
    timeouts: 0,
    shortCircuited: 0,
  };

  // Outcomes per second, this one and the last: the share of failures that opening requires.
  let second = Math.floor(now() / 1000);
  let current = { ok: 0, failed: 0 };
  let previous = { ok: 0, failed: 0 };
  const record = (ok: boolean) => {
    const at = Math.floor(now() / 1000);
    if (at !== second) {
      previous = at === second + 1 ? current : { ok: 0, failed: 0 };
      current = { ok: 0, failed: 0 };
      second = at;
    }
    if (ok) current.ok++;
    else current.failed++;
  };
  const mostlyFailing = () => {
    const failed = current.failed + previous.failed;
    return failed * 2 >= failed + current.ok + previous.ok;
  };

  const succeeded = () => {
    record(true);
    consecutive = 0;
    circuit = 'closed';
  };

  const fail = (error: unknown): never => {
    health.failures++;
    consecutive++;
    record(false);
    const message = error instanceof Error ? error.message : String(error);
    health.lastError = { message, at: new Date(now()).toISOString() };
    if (circuit === 'half-open' || (consecutive >= threshold && mostlyFailing())) {
      circuit = 'open';
      openedAt = now();
    }
    if (error instanceof StrataError) throw error;
    throw new StrataError('E_STORE_UNAVAILABLE', `${store.level} store failed: ${message}`, { cause: error });
  };

  async function guard<T>(operation: () => Promise<T>): Promise<T> {
    if (circuit === 'open') {
      if (now() - openedAt < resetAfterMs || trial) {
        health.shortCircuited++;
        throw new StrataError('E_CIRCUIT_OPEN', `${store.level} store circuit is open after repeated failures`);
      }
      circuit = 'half-open';
    }
    if (circuit === 'half-open') {
      if (trial) {
        health.shortCircuited++;
        throw new StrataError('E_CIRCUIT_OPEN', `${store.level} store circuit is testing recovery`);
      }
      trial = true;
    }
    health.operations++;
    try {
      // Cold start: wait for the first connection, so a fresh instance does not send its first
      // burst to the origin; the operation's own timeout starts once the store is open.
      const opening = store.ready?.();
      if (opening)
        await deadline(
          opening,
          connectTimeoutMs,
          () => `${store.level} store did not connect within ${connectTimeoutMs} ms`,
        );
      // A store without I/O answers or throws: a timer per operation would only cost it time.
      const result = store.inProcess
        ? await operation()
        : await deadline(operation(), timeoutMs, () => `${store.level} store did not answer within ${timeoutMs} ms`);
      succeeded();
      return result;
    } catch (error) {
      return fail(error);
    } finally {
      trial = false;
    }
  }

  /**
   * `work`, or an E_STORE_TIMEOUT after `ms`. Under load a due timer runs before the event loop
   * reads the sockets, so the answer may already be waiting: the loop's I/O phase runs first
   * (setImmediate comes after it), and the wait times out only if the answer is still missing.
   * A busy process is not a dead store.
   */
  async function deadline<T>(work: Promise<T>, ms: number, message: () => string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const pending = work.finally(() => {
      settled = true;
    });
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        setImmediate(() => {
          if (settled) return;
          health.timeouts++;
          reject(new StrataError('E_STORE_TIMEOUT', message()));
        });
      }, ms);
      timer.unref?.();
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  const wrapped = {
    level: store.level,
    shared: store.shared,
    inProcess: store.inProcess,
    close: () => store.close(),
  } as ResilientStore;
  for (const method of METHODS) {
    const original = store[method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (!original) continue;
    (wrapped as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      guard(() => original.apply(store, args));
  }
  // A read the store answers at once: counted as `guard` counts a read, never tried while the
  // circuit is not closed or the store is still connecting (then `read` decides).
  const { peek } = store;
  if (peek) {
    wrapped.peek = (key, tags) => {
      if (circuit !== 'closed' || store.ready?.()) return undefined;
      let read: ReturnType<typeof peek>;
      try {
        read = peek.call(store, key, tags);
      } catch {
        return undefined; // `read` tries again, and counts the failure
      }
      if (read) {
        health.operations++;
        succeeded();
      }
      return read;
    };
  }
  const scan = async <T>(name: keyof typeof SCAN_TIMEOUT_MS, operation: () => Promise<T>): Promise<T> => {
    if (circuit !== 'closed') {
      health.shortCircuited++;
      throw new StrataError('E_CIRCUIT_OPEN', `${store.level} store circuit is not closed`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = SCAN_TIMEOUT_MS[name];
    try {
      return await Promise.race([
        operation(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new StrataError('E_STORE_TIMEOUT', `${store.level} store ${name} took over ${limit} ms`)),
            limit,
          );
          timer.unref?.();
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  wrapped.size = () => scan('size', () => store.size());
  wrapped.keys = (pattern, limit) => scan('keys', () => store.keys(pattern, limit));
  wrapped.health = () => ({ level: store.level, circuit, healthy: circuit === 'closed', ...health });
  return wrapped;
}
