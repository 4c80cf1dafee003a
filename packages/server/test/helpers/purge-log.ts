import type { Bus, CdnPurge, PurgeEvent, Purger } from '@strata/server';

/** Every message the bus carries from `from` on (default: from now), and the purge events among them. */
export function collect(bus: Bus, from?: string) {
  const messages: PurgeEvent[] = [];
  const subscription = bus.subscribe(from, (message) => messages.push(message));
  // A reset the bus makes for this subscriber (retention, unknown id, lost log) is not a purge.
  const purges = () => messages.filter((m) => !m.reason || m.reason === 'clear-all');
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
