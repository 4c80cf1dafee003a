import type { Store } from '@strata/server';

/** The store operations a fault can be injected into (`close` always passes through). */
export const STORE_METHODS = ['read', 'write', 'versions', 'bump', 'delete', 'keys', 'clear', 'size'] as const;
export type StoreMethod = (typeof STORE_METHODS)[number];

/**
 * How an operation behaves: `ok` forwards to the wrapped store, `fail` rejects at once, `hang`
 * never settles until `release()`, `slow` forwards after a delay.
 */
export type Fault = { kind: 'ok' } | { kind: 'fail'; error: Error } | { kind: 'hang' } | { kind: 'slow'; ms: number };

export interface ChaosStore extends Store {
  readonly inner: Store;
  /** Calls per method that reached this wrapper, whatever their fate. */
  readonly calls: Record<StoreMethod, number>;
  /** Calls that got through to the wrapped store. */
  readonly forwarded: Record<StoreMethod, number>;
  /** All calls that reached this wrapper. */
  totalCalls(): number;
  /** Hung calls waiting for `release()`. */
  pending(): number;
  set(fault: Fault, methods?: readonly StoreMethod[]): void;
  ok(methods?: readonly StoreMethod[]): void;
  fail(methods?: readonly StoreMethod[], error?: Error): void;
  hang(methods?: readonly StoreMethod[]): void;
  slow(ms: number, methods?: readonly StoreMethod[]): void;
  /** Lets every hung call go on to the wrapped store. Later calls follow the current fault. */
  release(): void;
  resetCounters(): void;
}

const zeros = (): Record<StoreMethod, number> =>
  Object.fromEntries(STORE_METHODS.map((method) => [method, 0])) as Record<StoreMethod, number>;

/**
 * A store wrapper for fault injection: each method can be switched to fail, hang or be slow,
 * per method or all at once, and counts its calls — so a test sees exactly what reached the
 * backend. The fault is chosen when a call starts, as for a real backend.
 */
export function chaos(inner: Store): ChaosStore {
  const faults = new Map<StoreMethod, Fault>(STORE_METHODS.map((method) => [method, { kind: 'ok' }]));
  const calls = zeros();
  const forwarded = zeros();
  let hung: (() => void)[] = [];

  const set = (fault: Fault, methods: readonly StoreMethod[] = STORE_METHODS) => {
    for (const method of methods) faults.set(method, fault);
  };

  async function run<T>(method: StoreMethod, call: () => Promise<T>): Promise<T> {
    calls[method]++;
    const fault = faults.get(method) ?? { kind: 'ok' };
    if (fault.kind === 'fail') throw fault.error;
    if (fault.kind === 'hang') await new Promise<void>((resolve) => hung.push(resolve));
    if (fault.kind === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    forwarded[method]++;
    return call();
  }

  const release = () => {
    const waiting = hung;
    hung = [];
    for (const resolve of waiting) resolve();
  };

  return {
    inner,
    level: inner.level,
    shared: inner.shared,
    calls,
    forwarded,
    read: (key, tags) => run('read', () => inner.read(key, tags)),
    write: (key, value, ttl, tags) => run('write', () => inner.write(key, value, ttl, tags)),
    versions: (tags) => run('versions', () => inner.versions(tags)),
    bump: (tags) => run('bump', () => inner.bump(tags)),
    delete: (keys) => run('delete', () => inner.delete(keys)),
    keys: (pattern, limit) => run('keys', () => inner.keys(pattern, limit)),
    clear: () => run('clear', () => inner.clear()),
    size: () => run('size', () => inner.size()),
    async close() {
      release();
      await inner.close();
    },
    totalCalls: () => STORE_METHODS.reduce((sum, method) => sum + calls[method], 0),
    pending: () => hung.length,
    set,
    ok: (methods) => set({ kind: 'ok' }, methods),
    fail: (methods, error = new Error('injected store failure')) => set({ kind: 'fail', error }, methods),
    hang: (methods) => set({ kind: 'hang' }, methods),
    slow: (ms, methods) => set({ kind: 'slow', ms }, methods),
    release,
    resetCounters() {
      for (const method of STORE_METHODS) {
        calls[method] = 0;
        forwarded[method] = 0;
      }
    },
  };
}
