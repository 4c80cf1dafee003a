import { h } from '../dom.js';
import { formatClock } from '../format.js';
import type { AppliedPurge, PurgeLog } from '../purges.js';

const SHOWN = 20;

/** The purges and resets this browser applied, newest first, streaming in as they arrive. */
export function createPurgeLogPanel(log: PurgeLog): { element: HTMLElement; stop(): void } {
  const list = h('ol', {
    class: 'purge-log',
    'data-testid': 'purge-log',
    'aria-label': 'Purges applied here, newest first',
  });
  const empty = h('p', { class: 'muted' }, 'No purges yet: edit a user or invalidate a tag to see one arrive.');
  const show = () => {
    const entries = log.entries().slice(0, SHOWN);
    empty.hidden = entries.length > 0;
    list.replaceChildren(...entries.map(entry));
  };
  show();
  const stop = log.subscribe(show);
  return {
    element: h('div', {}, empty, list),
    stop,
  };
}

function entry(purge: AppliedPurge): HTMLLIElement {
  const names =
    purge.kind === 'reset'
      ? 'reset: everything tagged dropped'
      : [...purge.tags.map((tag) => `tag ${tag}`), ...purge.keys.map((key) => `key ${key}`)].join(', ') ||
        'nothing for browsers (no tags or keys)';
  return h(
    'li',
    { class: 'purge-entry', 'data-testid': 'purge-entry', 'data-purge-id': purge.id },
    h('time', { datetime: purge.at.toISOString() }, formatClock(purge.at)),
    h('code', { class: 'purge-id' }, purge.id || '—'),
    h('span', { class: 'purge-names' }, names),
    h('span', { class: 'purge-evicted' }, `${purge.evicted} evicted here`),
  );
}
