import { h, scrollable } from '../dom.js';
import type { UserPage } from '../types.js';
import { heading } from './states.js';
import type { AppContext, RouteParams, View } from './view.js';

/** The page number in `?page=`, 1 when absent or not a positive integer. */
export function pageNumber(query: URLSearchParams): number {
  const page = Number(query.get('page') ?? '1');
  return Number.isSafeInteger(page) && page > 0 ? page : 1;
}

/** The first page has no query, so it shares its cache entries with the warmer's request. */
export function usersPath(page: number): string {
  return page === 1 ? '/api/v1/users' : `/api/v1/users?page=${page}`;
}

/** `/users` and `/`: every user, 20 per page. */
export function usersView(app: AppContext, { query }: RouteParams): View {
  const page = pageNumber(query);
  return {
    title: page === 1 ? 'Users' : `Users, page ${page}`,
    tags: ['users'],
    async render() {
      const data = await app.api.request<UserPage>(usersPath(page));
      return h(
        'section',
        {},
        heading('Users'),
        h('p', { class: 'lead' }, `${data.total} people. Every request is answered by the nearest cache that has it.`),
        scrollable('Users', table(data)),
        pager(app, data),
      );
    },
  };
}

function table(data: UserPage): HTMLTableElement {
  const rows = data.users.map((user) =>
    h(
      'tr',
      { 'data-testid': 'user-row', 'data-user-id': user.id },
      h('td', { class: 'numeric hide-narrow' }, user.id),
      h('td', {}, h('a', { href: `/users/${user.id}` }, user.name)),
      h('td', {}, user.role),
      h('td', {}, user.team),
    ),
  );
  const empty = h('tr', {}, h('td', { colspan: 4 }, 'No users on this page.'));
  return h(
    'table',
    { class: 'data-table', 'data-testid': 'users-table' },
    h('caption', { class: 'visually-hidden' }, `Users, page ${data.page} of ${data.pages}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col', class: 'hide-narrow' }, '#'),
        ...['Name', 'Role', 'Team'].map((column) => h('th', { scope: 'col' }, column)),
      ),
    ),
    h('tbody', {}, ...(rows.length > 0 ? rows : [empty])),
  );
}

function pager(app: AppContext, data: UserPage): HTMLElement {
  const go = (page: number, testId: string) => () =>
    app.navigate(`/users?page=${page}`, { focus: `[data-testid="${testId}"]:not([disabled])` });
  const previous = h(
    'button',
    { type: 'button', class: 'button', 'data-testid': 'page-prev', disabled: data.page <= 1 },
    'Previous',
    h('span', { class: 'visually-hidden' }, ' page'),
  );
  const next = h(
    'button',
    { type: 'button', class: 'button', 'data-testid': 'page-next', disabled: data.page >= data.pages },
    'Next',
    h('span', { class: 'visually-hidden' }, ' page'),
  );
  previous.addEventListener('click', go(data.page - 1, 'page-prev'));
  next.addEventListener('click', go(data.page + 1, 'page-next'));
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    previous,
    h('span', { 'data-testid': 'page-status' }, `Page ${data.page} of ${data.pages}`),
    next,
  );
}
