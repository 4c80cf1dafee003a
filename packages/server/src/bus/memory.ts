import { StrataError } from '@strata/policy';
import { eventOf, resetEvent } from './event.js';
import { busUnavailable, FanOut, Subscriber } from './fanout.js';
import { compareIds, idClock, isValidId, ZERO_ID } from './ids.js';
import { resumeDecision } from './resume.js';
import type { Bus, PurgeEvent, Subscription } from './types.js';

/** What a new subscriber receives before live events; `cursor` is where it stands after them. */
interface Plan {
  cursor?: string;
  events: PurgeEvent[];
}

export interface MemoryBusOptions {
  /** Events kept for replay; a subscriber further behind gets a `reset`. Default 10 000. */
  retain?: number;
}

/**
 * The in-process purge log, the default when no Redis is configured: a ring buffer of the last
 * `retain` events. Ids have the Redis stream form and keep increasing if the clock steps back.
 * The log lives and dies with the process: an id from an earlier process is unknown here, so a
 * client resuming with one gets a `reset` rather than a silent gap.
 *
 * Resume rules (`subscribe(from)`, decided by `resumeDecision`), shared with `redisBus`:
 * - no `from`: events published from now on;
 * - `from` is `0-0`, the last dropped id, or a retained id: every retained event after it;
 * - `from` is older than the oldest retained event and events were dropped: `reset` 'retention';
 * - `from` is newer than the newest id, was never issued, or is not an id: `reset` 'unknown'.
 * A reset carries the newest id and the subscriber continues after it: the reset drops everything
 * tagged, which covers every event up to then.
 */
export function memoryBus(options: MemoryBusOptions = {}): Bus {
  const retain = options.retain ?? 10_000;
  if (!Number.isSafeInteger(retain) || retain < 1) {
    throw new StrataError('E_CONFIG_INVALID', `memoryBus: retain must be a positive integer, got ${String(retain)}`);
  }
  const nextId = idClock();
  const fanout = new FanOut();
  // Ring buffer: `size` events starting at `head`, oldest first.
  const ring: (PurgeEvent | undefined)[] = [];
  let head = 0;
  let size = 0;
  let lastDropped: string | undefined;
  let closed = false;

  const at = (index: number) => ring[(head + index) % retain];
  const newest = () => (size === 0 ? undefined : at(size - 1)?.id);

  const append = (event: PurgeEvent) => {
    if (size < retain) {
      ring[(head + size) % retain] = event;
      size++;
      return;
    }
    lastDropped = ring[head]?.id;
    ring[head] = event;
    head = (head + 1) % retain;
  };

  /** Index of the first retained event with an id above `id` (ids ascend: binary search). */
  const firstAfter = (id: string) => {
    let low = 0;
    let high = size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const event = at(middle);
      if (event && compareIds(event.id, id) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  };

  /** What a subscriber starting at `from` receives before live events, decided at subscribe time. */
  const plan = (from: string | undefined): Plan => {
    const end = newest();
    const index = isValidId(from) ? firstAfter(from) : 0;
    const decision = resumeDecision(from, {
      newest: end,
      oldest: size === 0 ? undefined : at(0)?.id,
      trimmed: false, // the ring knows what it dropped: everything up to `lastDropped`
      removedThrough: lastDropped,
      holdsFrom: from !== undefined && (from === lastDropped || (index > 0 && at(index - 1)?.id === from)),
    });
    if (decision.type === 'live') return { cursor: end ?? ZERO_ID, events: [] };
    if (decision.type === 'replay') return { cursor: decision.from, events: replayFrom(index) };
    return { events: [resetEvent(end ?? ZERO_ID, decision.reason)] };
  };

  const replayFrom = (index: number): PurgeEvent[] => {
    const events: PurgeEvent[] = [];
    for (let i = index; i < size; i++) {
      const event = at(i);
      if (event) events.push(event);
    }
    return events;
  };

  return {
    shared: false,
    async publish(input) {
      if (closed) throw busUnavailable('the memory bus is closed');
      const event = eventOf(nextId(), input);
      append(event);
      fanout.emit(event);
      return event.id;
    },

    subscribe(from, listener): Subscription {
      if (closed) throw new StrataError('E_BUS_CLOSED', 'memoryBus: subscribe after close()');
      const subscriber = new Subscriber(listener);
      const { cursor, events } = plan(from);
      if (cursor !== undefined) subscriber.seek(cursor);
      fanout.subscribers.add(subscriber);
      // The replay was copied above; events published from here on are held until it has gone
      // out. Delivering it in a microtask lets the caller hold the Subscription before its
      // listener first runs.
      queueMicrotask(() => {
        for (const event of events) subscriber.replay(event);
        subscriber.goLive();
      });
      return {
        close() {
          subscriber.close();
          fanout.subscribers.delete(subscriber);
        },
      };
    },

    stats() {
      return { lastId: newest(), retained: size, subscribers: fanout.subscribers.size, lagMs: 0, connected: !closed };
    },

    async close() {
      closed = true;
      fanout.closeAll();
      ring.length = 0;
      size = 0;
    },
  };
}
