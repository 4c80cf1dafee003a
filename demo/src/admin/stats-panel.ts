import { h, scrollable } from '../dom.js';
import { formatBytes, formatMs, formatPercent } from '../format.js';
import type { CacheStats, Counters } from '../types.js';
import { routeTable } from './route-table.js';

type CardName = 'hit-ratio' | 'entries' | 'memory' | 'sse' | 'bus-lag' | 'outbox';

const CARDS: [CardName, string, (stats: CacheStats) => string][] = [
  ['hit-ratio', 'Hit ratio', (s) => formatPercent(s.totals.hitRatio)],
  ['entries', 'Entries', (s) => (s.store.entries === undefined ? '—' : s.store.entries.toLocaleString('en'))],
  ['memory', 'Memory', (s) => (s.store.bytes === undefined ? '—' : formatBytes(s.store.bytes))],
  ['sse', 'SSE clients', (s) => String(s.sse.open)],
  ['bus-lag', 'Bus lag', (s) => formatMs(s.bus.lagMs)],
  ['outbox', 'Outbox', (s) => String(s.outbox)],
];

/** Whether the server cache is being bypassed: its store is failing, or purges wait to be delivered. */
export function isDegraded(stats: CacheStats): boolean {
  return !stats.store.healthy || stats.store.circuit !== 'closed' || stats.outbox > 0;
}

/** `REDIS` → `Redis`. */
const storeName = (level: string) => level.charAt(0) + level.slice(1).toLowerCase();

export function outageText(stats: CacheStats): string {
  const queued = `${stats.outbox} ${stats.outbox === 1 ? 'purge' : 'purges'} queued`;
  return `${storeName(stats.store.level)} unreachable: serving from the origin (BYPASS); ${queued}`;
}

/** The stat cards. */
export function createCards(): { element: HTMLElement; update(stats: CacheStats): void } {
  const values = new Map<CardName, HTMLElement>();
  const cards = CARDS.map(([name, label]) => {
    const value = h('p', { class: 'card-value', 'data-testid': 'stat-value' }, '—');
    values.set(name, value);
    return h('div', { class: 'card', 'data-testid': `stat-${name}` }, h('p', { class: 'card-label' }, label), value);
  });
  return {
    element: h('div', { class: 'card-grid card-grid-6' }, ...cards),
    update(stats) {
      for (const [name, , format] of CARDS) {
        const value = values.get(name);
        const text = format(stats);
        if (value && value.textContent !== text) value.textContent = text;
      }
    },
  };
}

/** The banner shown while the store is unreachable or purges are queued. */
export function createOutageBanner(): { element: HTMLElement; update(stats: CacheStats): void } {
  const text = h('strong', {});
  const error = h('span', { class: 'outage-error' });
  const element = h('div', { class: 'outage', role: 'alert', 'data-testid': 'outage', hidden: true }, text, error);
  return {
    element,
    update(stats) {
      const degraded = isDegraded(stats);
      element.hidden = !degraded;
      if (!degraded) return;
      text.textContent = outageText(stats);
      error.textContent = stats.store.lastError ? ` Last error: ${stats.store.lastError.message}` : '';
    },
  };
}

const lookups = (c: Counters) => c.hit + c.miss + c.collapsed + c.stale + c.bypass + c['error-fallback'];

/** Hits, misses and stale answers per route, busiest first. */
export function createRouteTable(): { element: HTMLElement; update(stats: CacheStats): void } {
  const columns = ['Hits', 'Misses', 'Stale', 'Hit ratio'];
  const { table, show } = routeTable('route-table', 'Server cache answers per route', columns);
  return {
    element: h(
      'div',
      {},
      scrollable('Server cache per route', table),
      h(
        'p',
        { class: 'hint muted' },
        'Misses include bypasses and reads that waited for another read’s origin call (collapsed); stale includes stale-if-error.',
      ),
    ),
    update(stats) {
      const routes = Object.entries(stats.routes).sort(
        (a, b) => lookups(b[1]) - lookups(a[1]) || a[0].localeCompare(b[0]),
      );
      show(
        routes.map(([route, c]) => [
          route,
          [c.hit, c.miss + c.collapsed + c.bypass, c.stale + c['error-fallback'], formatPercent(c.hitRatio)],
        ]),
        'No requests through the server cache yet.',
      );
    },
  };
}
