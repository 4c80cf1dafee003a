import type { Bus, BusMessage, CdnPurge, Purger } from '@strata/server';

/** Every message the bus carries from `from` on (default: from now), and the purge events among them. */
export function collect(bus: Bus, from?: string) {
  const messages: BusMessage[] = [];
  const subscription = bus.subscribe(from, (message) => messages.push(message));
  const purges = () => messages.flatMap((m) => (m.type === 'purge' ? [m.event] : []));
  return { messages, purges, close: () => subscription.close() };
}

/** Stands in for a CDN: records what it is asked to drop (no CDN is reached). */
export function recordingPurger(): Purger & { calls: CdnPurge[] } {
  const calls: CdnPurge[] = [];
  return {
    name: 'recording',
    calls,
    purge: async (request) => {
      calls.push(request);
      return undefined;
    },
  };
}
