/** An emitter with Node-style `on`/`off`, for listeners that need none of the event's arguments. */
export interface Listenable<Event extends string> {
  on(event: Event, listener: () => void): unknown;
  off(event: Event, listener: () => void): unknown;
}

/**
 * Resolves the first time `emitter` emits one of `events`, or `signal` aborts, and then removes
 * every listener it added (a stream's 'drain' or 'close', a Redis client's 'ready' or 'error').
 */
export function firstEvent<Event extends string>(
  emitter: Listenable<Event>,
  events: readonly Event[],
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const event of events) emitter.off(event, done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    for (const event of events) emitter.on(event, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
