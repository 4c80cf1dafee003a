import { h } from '../dom.js';
import { formatDateTime } from '../format.js';
import type { User } from '../types.js';
import { heading } from './states.js';
import type { AppContext, RouteParams, View } from './view.js';

/** `/users/:id`: one user's record. */
export function userView(app: AppContext, { params }: RouteParams): View {
  const id = params.id ?? '';
  return {
    title: `User ${id}`,
    tags: [`user:${id}`],
    async render() {
      const user = await app.api.request<User>(`/api/v1/users/${encodeURIComponent(id)}`);
      const signedIn = app.session.current() !== undefined;
      return h(
        'article',
        { class: 'panel user-card' },
        heading(user.name, { 'data-testid': 'user-name' }),
        h(
          'dl',
          { class: 'fields' },
          field('Email', h('a', { href: `mailto:${user.email}`, 'data-testid': 'user-email' }, user.email)),
          field('Role', h('span', { 'data-testid': 'user-role' }, user.role)),
          field('Team', h('span', { 'data-testid': 'user-team' }, user.team)),
          field('Bio', h('span', { 'data-testid': 'user-bio' }, user.bio || '—')),
          field(
            'Updated',
            h('time', { datetime: user.updatedAt, 'data-testid': 'user-updated' }, formatDateTime(user.updatedAt)),
          ),
        ),
        h(
          'p',
          { class: 'actions' },
          signedIn
            ? h('a', { href: `/users/${user.id}/edit`, class: 'button', 'data-testid': 'edit-link' }, 'Edit')
            : h('a', { href: '/login', class: 'button', 'data-testid': 'sign-in-to-edit' }, 'Sign in to edit'),
          h('a', { href: '/users' }, 'All users'),
        ),
      );
    },
  };
}

function field(term: string, value: Node): HTMLDivElement {
  return h('div', { class: 'field' }, h('dt', {}, term), h('dd', {}, value));
}
