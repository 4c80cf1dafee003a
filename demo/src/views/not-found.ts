import { h } from '../dom.js';
import { heading } from './states.js';
import type { View } from './view.js';

/** Any path the app has no page for. */
export function notFoundView(): View {
  return {
    title: 'Not found',
    tags: [],
    async render() {
      return h(
        'section',
        { class: 'panel state', 'data-testid': 'not-found' },
        heading('Page not found'),
        h('p', {}, `There is no page at ${location.pathname}.`),
        h('p', {}, h('a', { href: '/users' }, 'Go to the users')),
      );
    },
  };
}
