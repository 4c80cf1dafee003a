/** A minimal typed event emitter: listeners that throw never break the client. */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (event: Events[K]) => void): () => void {
    const set = this.#listeners.get(type) ?? new Set();
    set.add(listener as (event: never) => void);
    this.#listeners.set(type, set);
    return () => set.delete(listener as (event: never) => void);
  }

  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as (event: Events[K]) => void)(event);
      } catch (error) {
        console.error('[strata] a listener threw', error);
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
