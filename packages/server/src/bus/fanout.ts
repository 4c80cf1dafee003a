import { StrataError } from '@strata/policy';
import { compareIds } from './ids.js';
import type { BusMessage, PurgeEvent } from './types.js';

export type Listener = (message: BusMessage) => void;

/** The error `publish` rejects with when the log cannot take the event (the caller keeps it in its outbox). */
export function busUnavailable(message: string, cause?: unknown): StrataError {
  return new StrataError('E_BUS_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * The event as the log keeps it: copied, so a publisher that reuses its arrays cannot change the
 * past, and frozen, because every local subscriber receives the same object. Only the shape is
 * checked here; tags and keys were validated by whoever built the purge.
 */
export function eventOf(id: string, input: Omit<PurgeEvent, 'id'>): PurgeEvent {
  if (!isStrings(input.tags) || !isStrings(input.keys))
    throw new StrataError('E_EVENT_INVALID', 'purge event: tags and keys must be string arrays');
  if (typeof input.at !== 'number' || !Number.isFinite(input.at))
    throw new StrataError('E_EVENT_INVALID', 'purge event: at must be a finite number');
  if (input.partition !== undefined && typeof input.partition !== 'string') {
    throw new StrataError('E_EVENT_INVALID', 'purge event: partition must be a string');
  }
  if (input.all !== undefined && typeof input.all !== 'boolean')
    throw new StrataError('E_EVENT_INVALID', 'purge event: all must be a boolean');
  if (input.pattern !== undefined && typeof input.pattern !== 'string')
    throw new StrataError('E_EVENT_INVALID', 'purge event: pattern must be a string');
  const event: PurgeEvent = {
    id,
    tags: Object.freeze([...input.tags]) as string[],
    keys: Object.freeze([...input.keys]) as string[],
    at: input.at,
  };
  if (input.partition !== undefined) event.partition = input.partition;
  if (input.all !== undefined) event.all = input.all;
  if (input.pattern !== undefined) event.pattern = input.pattern;
  return Object.freeze(event);
}

interface Held {
  message: BusMessage;
  epoch: number;
}

/**
 * One local subscriber. While its replay runs, live messages are held back; afterwards they follow
 * in order. It remembers the last id it delivered and drops any purge at or before it, so the
 * overlap between a replay and the live stream is never delivered twice.
 */
export class Subscriber {
  #listener: Listener | undefined;
  #cursor: string | undefined;
  #held: Held[] | undefined = [];
  /** The last message delivered was a reset: a second one to the same id right after it says nothing new. */
  #justReset = false;
  readonly #abort = new AbortController();

  constructor(listener: Listener) {
    this.#listener = listener;
  }

  get closed(): boolean {
    return this.#listener === undefined;
  }

  /** Aborted on close: stops this subscriber's replay and whatever it waits for. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** The last id delivered, or where the replay starts from. */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  /** Sets the starting point: later purges at or before `id` are not delivered. */
  seek(id: string): void {
    this.#cursor = id;
  }

  /** A message from the live fan-out. `epoch` numbers the log incarnation a reset belongs to (see `goLive`). */
  offer(message: BusMessage, epoch = 0): void {
    if (this.#held) this.#held.push({ message, epoch });
    else this.#deliver(message);
  }

  /** A message of this subscriber's own replay: goes out before anything held back. */
  replay(message: BusMessage): void {
    this.#deliver(message);
  }

  /**
   * Ends the replay: delivers what was held back, minus what the replay already covered, and from
   * then on delivers live messages at once. Resets of epoch ≤ `coveredEpoch` are dropped: the
   * replay read the log after they were announced, so it already saw (and reported) that loss.
   */
  goLive(coveredEpoch = -1): void {
    const held = this.#held;
    if (!held) return;
    // Messages offered during this loop (a listener that publishes) are appended and still delivered in order.
    for (const { message, epoch } of held) {
      if (message.type === 'reset' && epoch <= coveredEpoch) continue;
      this.#deliver(message);
    }
    this.#held = undefined;
  }

  close(): void {
    this.#listener = undefined;
    this.#held = undefined;
    this.#abort.abort();
  }

  #deliver(message: BusMessage): void {
    const listener = this.#listener;
    if (!listener) return;
    if (message.type === 'purge') {
      if (this.#cursor !== undefined && compareIds(message.event.id, this.#cursor) <= 0) return;
      this.#cursor = message.event.id;
      this.#justReset = false;
    } else {
      // Two resets in a row to the same point (a replay and the reader both noticed one loss)
      // drop everything once: the second would only make the subscriber do it again.
      if (this.#justReset && message.id === this.#cursor) return;
      if (message.id !== undefined) this.#cursor = message.id; // may move back: a lost log restarts its ids
      this.#justReset = true;
    }
    try {
      listener(message);
    } catch (error) {
      // Like EventTarget: a throwing listener is reported as an uncaught error, and neither stops
      // delivery to the others nor breaks the publisher or the reader.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/**
 * Delivers messages to every subscriber in one global order. A listener that publishes while a
 * message is going out queues the new one behind it, so no subscriber sees them swapped.
 */
export class FanOut {
  readonly subscribers = new Set<Subscriber>();
  #queue: Held[] = [];
  #draining = false;

  emit(message: BusMessage, epoch = 0): void {
    this.#queue.push({ message, epoch });
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        for (const subscriber of this.subscribers) subscriber.offer(next.message, next.epoch);
      }
    } finally {
      this.#draining = false;
    }
  }

  closeAll(): void {
    for (const subscriber of this.subscribers) subscriber.close();
    this.subscribers.clear();
  }
}
