import type { RouteStats, StrataClient } from '@strata/client';
import { h, scrollable } from '../dom.js';
import { type RouteRow, routeTable } from './route-table.js';

/** This browser's service-worker counters per route, from `client.stats()`. */
export function createSwStats(client: StrataClient): { element: HTMLElement; refresh(): Promise<void> } {
  const note = h('p', { class: 'muted', hidden: true });
  const columns = ['Hits', 'Misses', 'Stale', 'Purged'];
  const { table, show } = routeTable('sw-stats', 'Service worker answers per route in this browser', columns);
  return {
    element: h('div', {}, note, scrollable('Service worker per route', table)),
    async refresh() {
      try {
        const { routes } = await client.stats();
        note.hidden = true;
        show(rows(routes), 'Nothing served by the service worker yet.');
      } catch {
        note.textContent = client.supported
          ? 'The service worker did not answer; retrying.'
          : 'No service worker in this browser.';
        note.hidden = false;
      }
    },
  };
}

/** Per route, alphabetically: hits, misses, stale answers (stale-if-error included) and purged entries. */
function rows(routes: Record<string, RouteStats>): RouteRow[] {
  return Object.entries(routes)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([route, c]) => [route, [c.hit, c.miss, c.stale + c['error-fallback'], c.purged]]);
}
