import { isApiError, isNetworkError } from '../api.js';
import { h } from '../dom.js';

/** A page heading that takes focus after navigation (it is not in the tab order). */
export function heading(text: string, props: Record<string, string> = {}): HTMLHeadingElement {
  return h('h1', { tabindex: -1, ...props }, text);
}

export function loadingState(): HTMLElement {
  return h('p', { class: 'loading', 'data-testid': 'loading' }, 'Loading…');
}

/** Shown when no layer had a copy and the network failed. */
export function offlineState(retry: () => void): HTMLElement {
  const text = navigator.onLine
    ? "The server can't be reached and this page hasn't been saved yet."
    : "You're offline and this page hasn't been saved yet.";
  return h(
    'section',
    { class: 'panel state', 'data-testid': 'offline' },
    heading(navigator.onLine ? 'Server unreachable' : "You're offline"),
    h('p', {}, text),
    h('p', {}, 'Pages and data you opened before are kept by the service worker and still work.'),
    h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again'),
  );
}

export function errorState(error: unknown, retry: () => void): HTMLElement {
  const notFound = isApiError(error) && error.status === 404;
  const message = isApiError(error) ? error.message : 'Something went wrong while showing this page.';
  return h(
    'section',
    { class: 'panel state', 'data-testid': 'error' },
    heading(notFound ? 'Not found' : 'Something went wrong'),
    h('p', {}, message),
    notFound
      ? h('p', {}, h('a', { href: '/users' }, 'Back to the users'))
      : h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again'),
  );
}

/** The state for a failed render. */
export function failedState(error: unknown, retry: () => void): HTMLElement {
  return isNetworkError(error) ? offlineState(retry) : errorState(error, retry);
}
