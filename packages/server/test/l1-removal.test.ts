import { memoryBus, memoryStore, type Store } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { resilientStore } from '../src/store/resilient.js';
import { tieredStore } from '../src/store/tiered.js';

/** A store whose reads, once they have their answer, wait for `hold` to open before returning it. */
function held(inner: Store): { store: Store; hold(): () => void } {
  let gate: Promise<void> | undefined;
  const store = Object.assign(Object.create(inner) as Store, {
    async read(key: string, tags: readonly string[]) {
      const read = await inner.read(key, tags);
      await gate;
      return read;
    },
  });
  return {
    store,
    hold() {
      let open = () => {};
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

/** Resolves once `bus` has delivered an event removing `key` (and so has every earlier subscriber). */
function removal(bus: ReturnType<typeof memoryBus>, key: string): Promise<void> {
  return new Promise((resolve) => {
    const subscription = bus.subscribe(undefined, (event) => {
      if (event.entries?.includes(key)) {
        subscription.close();
        setTimeout(resolve, 0);
      }
    });
  });
}

describe('the L1 and entries removed by key', () => {
  it('a removal from the log drops the entry, and a read of it in flight then does not put it back', async () => {
    const bus = memoryBus();
    const { store, hold } = held(memoryStore());
    const l2 = resilientStore(store, { timeoutMs: 5_000 });
    const tiered = tieredStore(l2, { bus });
    const value = new TextEncoder().encode('an entry');
    await l2.write('GET /a', value, 60, ['t']);

    const open = hold();
    const inFlight = tiered.read('GET /a', ['t']); // the L1 misses; Redis answers before the removal
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Another instance removes the entry from the shared store, then says so on the log.
    const delivered = removal(bus, 'GET /a');
    await l2.delete(['GET /a']);
    await bus.publish({ tags: [], keys: [], entries: ['GET /a'], at: Date.now() });
    await delivered;
    open();
    expect((await inFlight).value).toEqual(value); // it answers what it got, and keeps none of it

    expect((await tiered.read('GET /a', ['t'])).value).toBeUndefined();
    expect(tiered.tiers()).toMatchObject({ l1: { hits: 0, entries: 0 } });
    await tiered.close();
    await bus.close();
  });

  it('a removal from the log drops an entry the L1 holds', async () => {
    const bus = memoryBus();
    const tiered = tieredStore(resilientStore(memoryStore()), { bus });
    await tiered.write('GET /b', new TextEncoder().encode('b'), 60, ['t']);
    await tiered.read('GET /b', ['t']); // teaches the L1 the tag's version
    expect((await tiered.read('GET /b', ['t'])).level).toBe('MEMORY');
    const delivered = removal(bus, 'GET /b');
    await bus.publish({ tags: [], keys: [], entries: ['GET /b'], at: Date.now() });
    await delivered;
    expect(tiered.tiers().l1.entries).toBe(0);
    await tiered.close();
    await bus.close();
  });
});
