import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { defineManifest, isStrataError, serverCache } from '@strata/policy';
import { createStrata, memoryStore } from '@strata/server';
import { afterEach, describe, expect, it } from 'vitest';
import { resilientStore } from '../../src/store/resilient.js';
import { type ChaosStore, chaos } from '../helpers/chaos.js';

/** Keeps this thread busy, as a process under load is: timers fall due, sockets fill, nothing runs. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** A clock the test moves by hand, injected as `now`: circuit resets without waiting for them. */
function manualClock(start = Date.UTC(2030, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** The rejection `promise` ends with, and how long it took. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: performance.now() - start };
  }
  throw new Error('expected a rejection, got a value');
}

const codeOf = (error: unknown) => (isStrataError(error) ? error.code : `not a StrataError: ${String(error)}`);

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

function wrapped(options: Parameters<typeof resilientStore>[1] = {}) {
  const store = chaos(memoryStore());
  const resilient = resilientStore(store, options);
  closers.push(() => resilient.close());
  return { store, resilient };
}

/**
 * A wrapped store on a clock the test moves, whose circuit `failureThreshold` failed reads have
 * opened; the store still fails.
 */
async function openedCircuit(options: Parameters<typeof resilientStore>[1] & { failureThreshold: number }) {
  const clock = manualClock();
  const { store, resilient } = wrapped({ ...options, now: clock.now });
  store.fail();
  for (let i = 0; i < options.failureThreshold; i++) await rejection(resilient.read('k', []));
  return { clock, store, resilient };
}

/**
 * With the store healthy again, a read 1 ms before `resetAfterMs` (1 s) is still refused, the
 * store having seen `reads` reads in all; then the clock reaches `resetAfterMs`.
 */
async function refusedUntilReset(circuit: Awaited<ReturnType<typeof openedCircuit>>, reads: number) {
  const { clock, store, resilient } = circuit;
  store.ok();
  clock.advance(999);
  expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_CIRCUIT_OPEN');
  expect(store.calls.read).toBe(reads);
  clock.advance(1);
}

describe('resilientStore', () => {
  it('a hanging store makes read reject with E_STORE_TIMEOUT within timeoutMs', async () => {
    const { store, resilient } = wrapped({ timeoutMs: 50 });
    store.hang();
    const { error, ms } = await rejection(resilient.read('k', ['t']));
    expect(codeOf(error)).toBe('E_STORE_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(45);
    expect(ms).toBeLessThan(50 + 150);
    expect(store.calls.read).toBe(1);
    expect(resilient.health()).toMatchObject({ operations: 1, failures: 1, timeouts: 1, circuit: 'closed' });
  });

  it('a store slower than the timeout times out; one within it answers', async () => {
    const { store, resilient } = wrapped({ timeoutMs: 50 });
    await resilient.write('k', new Uint8Array([1, 2, 3]), 60, []);
    store.slow(120);
    expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_STORE_TIMEOUT');
    store.slow(5);
    expect([...((await resilient.read('k', [])).value ?? [])]).toEqual([1, 2, 3]);
    expect(resilient.health()).toMatchObject({ operations: 3, failures: 1, timeouts: 1, circuit: 'closed' });
  });

  it('a store that declares itself in-process runs without the per-operation timer; failures still count', async () => {
    const store = chaos(memoryStore());
    const resilient = resilientStore(Object.assign(store, { inProcess: true }), { timeoutMs: 50 });
    closers.push(() => resilient.close());
    await resilient.write('k', new Uint8Array([1]), 60, []);
    store.slow(120); // what no in-process store does; it shows that no timer raced the call
    expect([...((await resilient.read('k', [])).value ?? [])]).toEqual([1]);
    store.fail();
    expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_STORE_UNAVAILABLE');
    expect(resilient.health()).toMatchObject({ operations: 3, failures: 1, timeouts: 0, circuit: 'closed' });
  });

  it('an answer that arrived while the event loop was busy is not a timeout', async () => {
    // The store's answer comes from another process over a socket, as Redis's does.
    const echo = spawn(process.execPath, [
      '-e',
      "const s = require('net').createServer((c) => c.on('data', (d) => c.write(d))).listen(0, '127.0.0.1', () => console.log(s.address().port))",
    ]);
    closers.push(async () => echo.kill());
    const [port] = (await once(echo.stdout, 'data')) as [Buffer];
    const socket = connect(Number(String(port).trim()), '127.0.0.1');
    closers.push(async () => socket.destroy());
    await once(socket, 'connect');
    const inner = memoryStore();
    const overTheWire = new Proxy(inner, {
      get(target, name) {
        if (name === 'read') {
          return async (key: string, tags: readonly string[]) => {
            socket.write('?');
            await once(socket, 'data');
            return target.read(key, tags);
          };
        }
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const resilient = resilientStore(overTheWire, { timeoutMs: 50 });
    closers.push(() => resilient.close());
    await resilient.write('k', new Uint8Array([7]), 60, []);
    for (let round = 0; round < 5; round++) {
      const read = resilient.read('k', []);
      // The question is on the wire; the answer lands in the socket while this thread is busy
      // past the timeout, as in a process under load.
      busy(120);
      expect([...((await read).value ?? [])]).toEqual([7]);
    }
    expect(resilient.health()).toMatchObject({ timeouts: 0, failures: 0, circuit: 'closed' });
  });

  it('failures among mostly successful calls (a busy instance) do not open the circuit; a mostly failing store does', async () => {
    const clock = manualClock();
    const { store, resilient } = wrapped({ failureThreshold: 3, now: clock.now });
    for (let i = 0; i < 12; i++) await resilient.read('k', []);
    store.fail();
    for (let i = 0; i < 5; i++) await rejection(resilient.read('k', []));
    // Five in a row failed, but 12 of the last 17 calls were answered: still closed.
    expect(resilient.health()).toMatchObject({ circuit: 'closed', failures: 5 });
    for (let i = 0; i < 7; i++) await rejection(resilient.read('k', []));
    // Now half of the calls of the last two seconds failed: open.
    expect(resilient.health()).toMatchObject({ circuit: 'open', failures: 12 });

    // Successes older than two seconds no longer speak for the store.
    const { store: later, resilient: again } = wrapped({ failureThreshold: 3, now: clock.now });
    for (let i = 0; i < 12; i++) await again.read('k', []);
    clock.advance(2_500);
    later.fail();
    for (let i = 0; i < 3; i++) await rejection(again.read('k', []));
    expect(again.health().circuit).toBe('open');
  });

  it('a failing store rejects with E_STORE_UNAVAILABLE, keeping the cause', async () => {
    const { store, resilient } = wrapped();
    const cause = new Error('ECONNREFUSED 127.0.0.1:1');
    store.fail(undefined, cause);
    const { error } = await rejection(resilient.bump(['t']));
    expect(codeOf(error)).toBe('E_STORE_UNAVAILABLE');
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('opens after failureThreshold consecutive failures, then refuses at once without calling the store', async () => {
    const { store, resilient } = wrapped({ timeoutMs: 1_000, failureThreshold: 3 });
    store.fail();
    for (let i = 0; i < 3; i++) {
      expect(resilient.health().circuit).toBe('closed');
      expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_STORE_UNAVAILABLE');
    }
    expect(resilient.health()).toMatchObject({ circuit: 'open', healthy: false, failures: 3, shortCircuited: 0 });

    // Even a store that would hang costs nothing now: no call reaches it.
    store.hang();
    const refused = [
      resilient.read('k', ['t']),
      resilient.write('k', new Uint8Array(1), 60, []),
      resilient.versions(['t']),
      resilient.bump(['t']),
      resilient.delete(['k']),
      resilient.keys('*', 10),
      resilient.clear(),
      resilient.size(),
    ];
    for (const call of refused) {
      const { error, ms } = await rejection(call);
      expect(codeOf(error)).toBe('E_CIRCUIT_OPEN');
      expect(ms).toBeLessThan(500); // far below the 1 s timeout: nothing was waited for
    }
    expect(store.totalCalls()).toBe(3);
    expect(store.pending()).toBe(0);
    expect(resilient.health()).toMatchObject({ circuit: 'open', operations: 3, failures: 3, shortCircuited: 8 });
  });

  it('timeouts count towards the threshold', async () => {
    const { store, resilient } = wrapped({ timeoutMs: 30, failureThreshold: 2 });
    store.hang();
    await rejection(resilient.read('a', []));
    expect(resilient.health().circuit).toBe('closed');
    await rejection(resilient.read('b', []));
    expect(resilient.health()).toMatchObject({ circuit: 'open', timeouts: 2, failures: 2 });
  });

  it('a success resets the count of consecutive failures', async () => {
    const { store, resilient } = wrapped({ failureThreshold: 3 });
    store.fail();
    await rejection(resilient.read('k', []));
    await rejection(resilient.read('k', []));
    store.ok();
    await resilient.read('k', []);
    store.fail();
    await rejection(resilient.read('k', []));
    await rejection(resilient.read('k', []));
    expect(resilient.health().circuit).toBe('closed');
    await rejection(resilient.read('k', []));
    expect(resilient.health().circuit).toBe('open');
  });

  it('after resetAfterMs lets one trial call through (half-open); its success closes the circuit', async () => {
    const circuit = await openedCircuit({ failureThreshold: 2, resetAfterMs: 1_000 });
    const { store, resilient } = circuit;
    expect(resilient.health().circuit).toBe('open');

    await refusedUntilReset(circuit, 2);
    store.slow(30);
    const trial = resilient.read('k', []);
    expect(resilient.health().circuit).toBe('half-open');
    // One trial at a time: the others are refused while it runs.
    expect(codeOf((await rejection(resilient.read('other', []))).error)).toBe('E_CIRCUIT_OPEN');
    expect(store.calls.read).toBe(3);
    await expect(trial).resolves.toEqual({ value: undefined, versions: [] });
    expect(resilient.health()).toMatchObject({ circuit: 'closed', healthy: true });

    await resilient.read('k', []);
    await resilient.read('k', []);
    expect(store.calls.read).toBe(5);
  });

  it('a failed trial re-opens the circuit for another resetAfterMs', async () => {
    const circuit = await openedCircuit({ failureThreshold: 2, resetAfterMs: 1_000 });
    const { clock, store, resilient } = circuit;

    clock.advance(1_000);
    expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_STORE_UNAVAILABLE');
    expect(store.calls.read).toBe(3);
    expect(resilient.health().circuit).toBe('open');

    await refusedUntilReset(circuit, 3);
    await resilient.read('k', []);
    expect(resilient.health().circuit).toBe('closed');
  });

  it('a trial that times out re-opens the circuit too', async () => {
    const { clock, store, resilient } = await openedCircuit({ timeoutMs: 30, failureThreshold: 1, resetAfterMs: 500 });
    clock.advance(500);
    store.hang();
    expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_STORE_TIMEOUT');
    expect(resilient.health()).toMatchObject({ circuit: 'open', timeouts: 1 });
    expect(codeOf((await rejection(resilient.read('k', []))).error)).toBe('E_CIRCUIT_OPEN');
  });

  it('health counts operations, failures and timeouts, and keeps the last error with its time', async () => {
    const clock = manualClock();
    const { store, resilient } = wrapped({ timeoutMs: 30, failureThreshold: 10, now: clock.now });
    expect(resilient.health()).toEqual({
      level: 'MEMORY',
      circuit: 'closed',
      healthy: true,
      operations: 0,
      failures: 0,
      timeouts: 0,
      shortCircuited: 0,
    });
    await resilient.write('k', new Uint8Array(1), 60, []);
    store.fail(undefined, new Error('disk on fire'));
    await rejection(resilient.read('k', []));
    expect(resilient.health().lastError).toEqual({
      message: 'disk on fire',
      at: new Date(clock.now()).toISOString(),
    });
    clock.advance(5_000);
    store.hang();
    await rejection(resilient.versions(['t']));
    store.ok();
    await resilient.read('k', []);
    const health = resilient.health();
    expect(health).toMatchObject({ operations: 4, failures: 2, timeouts: 1, circuit: 'closed', healthy: true });
    // A later success does not erase what went wrong: the error stays visible.
    expect(health.lastError?.message).toMatch(/did not answer within 30 ms/);
    expect(health.lastError?.at).toBe(new Date(clock.now()).toISOString());
  });
});

// ---------------------------------------------------------------------------------------------

const manifest = defineManifest({
  version: 1,
  routes: [
    { match: '/api/items/:id', policy: serverCache(60, { tags: ['items', 'item:{id}'] }) },
    { match: '/api/items/:id', methods: ['POST'], policy: { ttl: 0, levels: [] } },
  ],
});

/** An origin that numbers its answers, so a test can tell a cached body from a fresh one. */
function countingOrigin() {
  const origin = async (request: Request) => {
    origin.calls++;
    const path = new URL(request.url).pathname;
    return new Response(`${request.method} ${path} #${origin.calls}`, { headers: { 'content-type': 'text/plain' } });
  };
  origin.calls = 0;
  return origin;
}

function failOpenSetup(timeoutMs = 50) {
  const clock = manualClock(Date.now());
  const store: ChaosStore = chaos(memoryStore());
  const strata = createStrata({
    manifest,
    store,
    now: clock.now,
    resilience: { timeoutMs, failureThreshold: 3, resetAfterMs: 1_000 },
  });
  closers.push(() => strata.close());
  const origin = countingOrigin();
  const get = async (path = '/api/items/1') => {
    const start = performance.now();
    const response = await strata.handle(new Request(`http://app.test${path}`), origin);
    return { response, body: await response.text(), ms: performance.now() - start };
  };
  return { clock, store, strata, origin, get };
}

const BYPASS_STATUS = /(?:^|, )strata; fwd=bypass(?:;|$)/;

describe('createStrata fails open', () => {
  it('a hanging store: every response is the origin’s 200 within about the timeout, marked BYPASS', async () => {
    const { store, strata, origin, get } = failOpenSetup();
    expect((await get()).response.headers.get('x-cache')).toBe('MISS');
    const hit = await get();
    expect(hit.response.headers.get('x-cache')).toBe('HIT');
    expect(hit.body).toBe('GET /api/items/1 #1');

    store.hang();
    for (let i = 0; i < 6; i++) {
      const { response, body, ms } = await get();
      expect(response.status).toBe(200);
      expect(body).toBe(`GET /api/items/1 #${origin.calls}`);
      expect(response.headers.get('x-cache')).toBe('BYPASS');
      expect(response.headers.get('x-cache-level')).toBeNull();
      expect(response.headers.get('cache-status')).toMatch(BYPASS_STATUS);
      expect(response.headers.get('cache-status')).toContain('detail=store-unavailable');
      expect(response.headers.get('cache-control')).not.toBeNull();
      expect(ms).toBeLessThan(50 + 150);
    }
    expect(origin.calls).toBe(7);

    // A burst while the circuit is open: nobody waits for the store, no call reaches it.
    const burst = await Promise.all(Array.from({ length: 10 }, () => get()));
    for (const { response } of burst) {
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe('BYPASS');
    }

    const stats = await strata.stats();
    expect(stats.storeErrors).toBe(16);
    expect(stats.totals).toMatchObject({ hit: 1, miss: 1, bypass: 16 });
    expect(stats.routes['/api/items/:id']).toMatchObject({ bypass: 16 });
    // 13 refused requests, and the size() this stats() call skipped because the circuit is open.
    expect(stats.store).toMatchObject({ circuit: 'open', healthy: false, timeouts: 3, shortCircuited: 14 });
    expect(stats.store.lastError?.message).toMatch(/did not answer/);
    expect(store.calls.read).toBe(2 + 3);
  });

  it('a store that rejects: BYPASS without waiting for any timeout', async () => {
    // A long timeout, so that waiting for it would show.
    const { store, strata, get } = failOpenSetup(5_000);
    store.fail();
    for (let i = 0; i < 5; i++) {
      const { response, ms } = await get(`/api/items/${i}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-cache')).toBe('BYPASS');
      expect(ms).toBeLessThan(1_000);
    }
    expect((await strata.stats()).store).toMatchObject({ circuit: 'open', failures: 3, timeouts: 0 });
  });

  it('store back to ok: hits again once the circuit resets', async () => {
    const { clock, store, strata, origin, get } = failOpenSetup();
    await get();
    store.hang();
    for (let i = 0; i < 4; i++) expect((await get()).response.headers.get('x-cache')).toBe('BYPASS');
    expect((await strata.stats()).store.circuit).toBe('open');

    store.ok();
    store.release();
    // Healthy again, but the circuit has not tried it yet.
    const readsBefore = store.calls.read;
    expect((await get()).response.headers.get('x-cache')).toBe('BYPASS');
    expect(store.calls.read).toBe(readsBefore);

    clock.advance(1_000);
    const { response, body } = await get();
    expect(response.headers.get('x-cache')).toBe('HIT');
    expect(response.headers.get('x-cache-level')).toBe('MEMORY');
    expect(body).toBe('GET /api/items/1 #1');
    const callsAfterRecovery = origin.calls;
    expect((await get()).response.headers.get('x-cache')).toBe('HIT');
    expect(origin.calls).toBe(callsAfterRecovery);
    expect((await strata.stats()).store).toMatchObject({ circuit: 'closed', healthy: true });
  });

  it('polling stats() while size() is slow does not take the cache offline for requests', async () => {
    // redisStore.size() SCANs the whole namespace: ~300 ms for 200,000 entries, above the timeout.
    const { store, strata, get } = failOpenSetup();
    await get();
    expect((await get()).response.headers.get('x-cache')).toBe('HIT');
    store.slow(200, ['size']);
    for (let i = 0; i < 4; i++) await strata.stats();
    // Reads are as healthy as ever: monitoring must neither open the circuit nor count as store failures.
    expect((await get()).response.headers.get('x-cache')).toBe('HIT');
    expect((await strata.stats()).store).toMatchObject({ circuit: 'closed', failures: 0 });
  });

  it('a hanging write: the miss is still answered within about the timeout, counted, not stored', async () => {
    const { store, strata, get } = failOpenSetup();
    store.hang(['write']);
    const miss = await get();
    expect(miss.response.status).toBe(200);
    expect(miss.response.headers.get('x-cache')).toBe('MISS');
    expect(miss.response.headers.get('cache-status')).not.toMatch(/stored/);
    expect(miss.ms).toBeLessThan(50 + 150);
    expect((await strata.stats()).storeErrors).toBe(1);
    store.ok(); // the hung write stays hung: only later writes succeed
    expect((await get()).response.headers.get('x-cache')).toBe('MISS');
    expect((await get()).response.headers.get('x-cache')).toBe('HIT');
  });

  it('an unsafe request while the store is down still gets the origin’s answer; its invalidation waits in the outbox', async () => {
    const { store, strata, get } = failOpenSetup(5_000);
    store.fail();
    const start = performance.now();
    const origin = countingOrigin();
    const response = await strata.handle(new Request('http://app.test/api/items/1', { method: 'POST' }), origin);
    expect(performance.now() - start).toBeLessThan(1_000);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('POST /api/items/1 #1');
    expect((await strata.stats()).outbox).toBe(1);
    expect((await get()).response.headers.get('x-cache')).toBe('BYPASS');
  });
});
