import { StrataError } from '@strata/policy';
import { isLoss } from './event.js';
import { compareIds } from './ids.js';
import type { Listener, PurgeEvent } from './types.js';

/** The error `publish` rejects with when the log cannot take the event (the caller keeps it in its outbox). */
export function busUnavailable(message: string, cause?: unknown): StrataError {
  return new StrataError('E_BUS_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

interface Held {
  event: PurgeEvent;
  epoch: number;
}

/**
 * One local subscriber. While its replay runs, live events are held back; afterwards they follow
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

  /** An event from the live fan-out. `epoch` numbers the log incarnation a reset belongs to (see `goLive`). */
  offer(event: PurgeEvent, epoch = 0): void {
    if (this.#held) this.#held.push({ event, epoch });
    else this.#deliver(event);
  }

  /** An event of this subscriber's own replay: goes out before anything held back. */
  replay(event: PurgeEvent): void {
    this.#deliver(event);
  }

  /**
   * Ends the replay: delivers what was held back, minus what the replay already covered, and from
   * then on delivers live events at once. Resets of epoch ≤ `coveredEpoch` are dropped: the
   * replay read the log after they were announced, so it already saw (and reported) that loss.
   */
  goLive(coveredEpoch = -1): void {
    const held = this.#held;
    if (!held) return;
    // Messages offered during this loop (a listener that publishes) are appended and still delivered in order.
    for (const { event, epoch } of held) {
      if (isLoss(event) && epoch <= coveredEpoch) continue;
      this.#deliver(event);
    }
    this.#held = undefined;
  }

  close(): void {
    this.#listener = undefined;
    this.#held = undefined;
    this.#abort.abort();
  }

  #deliver(event: PurgeEvent): void {
    const listener = this.#listener;
    if (!listener) return;
    if (!isLoss(event)) {
      if (this.#cursor !== undefined && compareIds(event.id, this.#cursor) <= 0) return;
      this.#cursor = event.id;
      this.#justReset = false;
    } else {
      // Two resets in a row to the same point (a replay and the reader both noticed one loss)
      // drop everything once: the second would only make the subscriber do it again.
      if (this.#justReset && event.id === this.#cursor) return;
      this.#cursor = event.id; // may move back: a lost log restarts its ids
      this.#justReset = true;
    }
    try {
      listener(event);
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
 * Delivers events to every subscriber in one global order. A listener that publishes while an
 * event is going out queues the new one behind it, so no subscriber sees them swapped.
 */
export class FanOut {
  readonly subscribers = new Set<Subscriber>();
  #queue: Held[] = [];
  #draining = false;

  emit(event: PurgeEvent, epoch = 0): void {
    this.#queue.push({ event, epoch });
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
        for (const subscriber of this.subscribers) subscriber.offer(next.event, next.epoch);
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
