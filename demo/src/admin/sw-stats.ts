import type { RouteStats, StrataClient } from '@strata/client';
import { h, headRow, scrollable } from '../dom.js';

/** This browser's service-worker counters per route, from `client.stats()`. */
export function createSwStats(client: StrataClient): { element: HTMLElement; refresh(): Promise<void> } {
  const body = h('tbody', {});
  const note = h('p', { class: 'muted', hidden: true });
  const table = h(
    'table',
    { class: 'data-table', 'data-testid': 'sw-stats' },
    h('caption', { class: 'visually-hidden' }, 'Service worker answers per route in this browser'),
    headRow('Route', 'Hits', 'Misses', 'Stale', 'Purged'),
    body,
  );
  return {
    element: h('div', {}, note, scrollable('Service worker per route', table)),
    async refresh() {
      try {
        const { routes } = await client.stats();
        note.hidden = true;
        body.replaceChildren(...rows(routes));
      } catch {
        note.textContent = client.supported
          ? 'The service worker did not answer; retrying.'
          : 'No service worker in this browser.';
        note.hidden = false;
      }
    },
  };
}

function rows(routes: Record<string, RouteStats>): HTMLTableRowElement[] {
  const entries = Object.entries(routes).sort((a, b) => a[0].localeCompare(b[0]));
  if (entries.length === 0) return [h('tr', {}, h('td', { colspan: 5 }, 'Nothing served by the service worker yet.'))];
  return entries.map(([route, c]) =>
    h(
      'tr',
      { 'data-route': route },
      h('th', { scope: 'row' }, h('code', {}, route)),
      h('td', { class: 'numeric' }, c.hit),
      h('td', { class: 'numeric' }, c.miss),
      h('td', { class: 'numeric' }, c.stale + c['error-fallback']),
      h('td', { class: 'numeric' }, c.purged),
    ),
  );
}
