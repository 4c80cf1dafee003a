import { h } from './dom.js';

const SHOWN_MS = 5_000;

export interface Notices {
  readonly element: HTMLElement;
  /** Shows a short message for a few seconds; screen readers announce it. */
  notify(text: string): void;
}

/** A polite live region of short-lived messages ("Updated (purge …)", "Saved — …"). */
export function createNotices(): Notices {
  const element = h('div', { class: 'notices', role: 'status', 'aria-live': 'polite' });
  return {
    element,
    notify(text) {
      const notice = h('p', { class: 'notice', 'data-testid': 'notice' }, text);
      element.append(notice);
      while (element.childElementCount > 3) element.firstElementChild?.remove();
      setTimeout(() => notice.remove(), SHOWN_MS);
    },
  };
}
