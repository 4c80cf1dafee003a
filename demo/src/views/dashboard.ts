import { isApiError } from '../api.js';
import { h, headRow, scrollable } from '../dom.js';
import { formatDateTime } from '../format.js';
import type { Dashboard, Me } from '../types.js';
import { heading } from './states.js';
import type { AppContext, View } from './view.js';

/** `/dashboard`: aggregates over every user, and the signed-in account. */
export function dashboardView(app: AppContext): View {
  return {
    title: 'Dashboard',
    tags: ['users', 'dashboard', 'me'],
    async render() {
      const signedIn = app.session.current() !== undefined;
      const [dashboard, me] = await Promise.all([
        app.api.request<Dashboard>('/api/v1/dashboard', { auth: true }),
        signedIn ? myAccount(app) : undefined,
      ]);
      return h(
        'section',
        {},
        heading('Dashboard'),
        h(
          'div',
          { class: 'card-grid' },
          stat('Total users', String(dashboard.users), 'dashboard-total'),
          stat('Viewer', dashboard.viewer ?? 'Anonymous', 'dashboard-viewer', 'card-value-text'),
          stat('Generated', formatDateTime(dashboard.generatedAt), 'dashboard-generated', 'card-value-text'),
        ),
        h(
          'div',
          { class: 'columns' },
          breakdown(
            'By role',
            dashboard.byRole.map((r) => [r.role, r.users]),
            dashboard.users,
            'by-role',
          ),
          breakdown(
            'By team',
            dashboard.byTeam.map((t) => [t.team, t.users]),
            dashboard.users,
            'by-team',
          ),
        ),
        h('div', { class: 'columns' }, recent(dashboard), me ?? signInPrompt()),
      );
    },
  };
}

/** The "My account" card; a rejected token shows a prompt rather than failing the page. */
async function myAccount(app: AppContext): Promise<HTMLElement> {
  try {
    return meCard(await app.api.request<Me>('/api/v1/me', { auth: true }));
  } catch (error) {
    if (isApiError(error) && error.status === 401) return signInPrompt('Your session is no longer valid.');
    throw error;
  }
}

function stat(label: string, value: string, testId: string, variant = ''): HTMLElement {
  return h(
    'div',
    { class: 'card', 'data-testid': testId },
    h('p', { class: 'card-label' }, label),
    h('p', { class: `card-value ${variant}` }, value),
  );
}

function breakdown(title: string, rows: [string, number][], total: number, testId: string): HTMLElement {
  const id = `${testId}-title`;
  return h(
    'section',
    { class: 'panel', 'data-testid': testId, 'aria-labelledby': id },
    h('h2', { id }, title),
    h(
      'ul',
      { class: 'bars' },
      ...rows.map(([name, count]) =>
        h(
          'li',
          {},
          h('span', { class: 'bar-label' }, name),
          h('span', { class: 'bar-count' }, count),
          h('span', {
            class: 'bar',
            style: `--share: ${total === 0 ? 0 : count / total}`,
            'aria-hidden': 'true',
          }),
        ),
      ),
    ),
  );
}

function recent(dashboard: Dashboard): HTMLElement {
  const rows = dashboard.recentlyUpdated.map((user) =>
    h(
      'tr',
      {},
      h('td', {}, h('a', { href: `/users/${user.id}` }, user.name)),
      h('td', {}, h('time', { datetime: user.updatedAt }, formatDateTime(user.updatedAt))),
    ),
  );
  return h(
    'section',
    { class: 'panel', 'data-testid': 'recently-updated', 'aria-labelledby': 'recent-title' },
    h('h2', { id: 'recent-title' }, 'Recently updated'),
    scrollable(
      'Recently updated users',
      h('table', { class: 'data-table wrap' }, headRow('Name', 'Updated'), h('tbody', {}, ...rows)),
    ),
  );
}

function meCard(me: Me): HTMLElement {
  return h(
    'section',
    { class: 'panel', 'data-testid': 'me', 'aria-labelledby': 'me-title' },
    h('h2', { id: 'me-title' }, 'My account'),
    h(
      'dl',
      { class: 'fields' },
      h('div', { class: 'field' }, h('dt', {}, 'Username'), h('dd', {}, me.username)),
      h('div', { class: 'field' }, h('dt', {}, 'Account'), h('dd', {}, me.label)),
      h('div', { class: 'field' }, h('dt', {}, 'Email'), h('dd', {}, me.user?.email ?? '—')),
    ),
    me.user ? h('p', {}, h('a', { href: `/users/${me.user.id}` }, 'My user record')) : null,
  );
}

function signInPrompt(reason = 'Sign in to see your own account, cached privately for you.'): HTMLElement {
  return h(
    'section',
    { class: 'panel', 'data-testid': 'me-signed-out', 'aria-labelledby': 'me-title' },
    h('h2', { id: 'me-title' }, 'My account'),
    h('p', {}, reason),
    h('p', {}, h('a', { href: '/login', class: 'button' }, 'Sign in')),
  );
}
