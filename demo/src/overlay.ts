import type { ApiCall } from './api.js';
import { h } from './dom.js';
import { formatMs } from './format.js';
import type { Layer } from './layers.js';

const SHOWN = 8;
const OPEN_KEY = 'strata-overlay-open';
const LAYERS: [Layer, string][] = [
  ['sw', 'Service worker'],
  ['cdn', 'CDN'],
  ['server', 'Server cache'],
  ['origin', 'Origin'],
];

export interface Overlay {
  readonly element: HTMLElement;
  record(call: ApiCall): void;
}

/** A badge naming the layer in words, coloured per layer. */
export function layerBadge(layer: Layer, label: string): HTMLSpanElement {
  return h('span', { class: `badge badge-${layer}` }, label);
}

/**
 * The layer overlay: the last API requests and the layer that answered each. A bottom sheet that
 * collapses to one line; the page reserves its height (`--overlay-space`) so it never hides content.
 */
export function createOverlay(storage: Storage): Overlay {
  const calls: ApiCall[] = [];
  const list = h('ol', { class: 'overlay-list', 'aria-label': 'Recent API requests, newest first' });
  const empty = h('p', { class: 'overlay-empty' }, 'No API requests yet.');
  const latest = h('span', { class: 'overlay-latest' });
  const body = h(
    'div',
    { class: 'overlay-body', id: 'overlay-body' },
    h('p', { class: 'overlay-legend' }, ...LAYERS.map(([layer, label]) => layerBadge(layer, label))),
    empty,
    list,
  );
  const toggle = h(
    'button',
    { type: 'button', class: 'overlay-toggle', 'aria-controls': 'overlay-body' },
    h('span', { class: 'overlay-title' }, 'Cache layers'),
    latest,
    h('span', { class: 'overlay-chevron', 'aria-hidden': 'true' }),
  );
  const element = h('aside', { class: 'overlay', 'data-testid': 'layer-overlay', 'aria-label': 'Cache layers' });
  element.append(toggle, body);

  const saved = storage.getItem(OPEN_KEY);
  setOpen(saved === null ? matchMedia('(min-width: 60rem)').matches : saved === 'true');
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    setOpen(open);
    storage.setItem(OPEN_KEY, String(open));
  });

  function setOpen(open: boolean): void {
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
  }

  // The page keeps room for the sheet at its bottom, whatever its current height.
  new ResizeObserver(() => {
    document.documentElement.style.setProperty('--overlay-space', `${element.offsetHeight}px`);
  }).observe(element);

  return {
    element,
    record(call) {
      calls.unshift(call);
      calls.length = Math.min(calls.length, SHOWN);
      empty.hidden = true;
      list.replaceChildren(...calls.map(entry));
      latest.replaceChildren(layerBadge(call.layer, call.label), ` ${formatMs(call.ms)}`);
    },
  };
}

function entry(call: ApiCall): HTMLLIElement {
  return h(
    'li',
    { class: 'overlay-entry', 'data-testid': 'overlay-entry', 'data-layer': call.layer, 'data-path': call.path },
    h(
      'span',
      { class: 'overlay-request' },
      h('span', { class: 'overlay-method' }, call.method),
      ' ',
      h('span', { class: 'overlay-path' }, call.path),
    ),
    h(
      'span',
      { class: 'overlay-answer' },
      layerBadge(call.layer, call.label),
      h('span', { class: 'overlay-detail' }, call.status >= 400 ? `${call.status} · ${call.detail}` : call.detail),
      h('span', { class: 'overlay-ms' }, formatMs(call.ms)),
    ),
  );
}
