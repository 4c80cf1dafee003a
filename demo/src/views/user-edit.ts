import { type Issue, isApiError, isNetworkError } from '../api.js';
import { h } from '../dom.js';
import { ROLES, type SaveAnswer, TEAMS, type User } from '../types.js';
import { heading } from './states.js';
import type { AppContext, RouteParams, View } from './view.js';

const FIELDS = ['name', 'email', 'role', 'team', 'bio'] as const;
type FieldName = (typeof FIELDS)[number];
type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** How long a save waits for its purge to reach this browser before showing the record anyway. */
const PURGE_WAIT_MS = 3_000;

/** `/users/:id/edit`: the edit form. Not re-rendered by purges: that would throw away what is typed. */
export function userEditView(app: AppContext, { params }: RouteParams): View {
  const id = params.id ?? '';
  return {
    title: `Edit user ${id}`,
    tags: [],
    async render() {
      if (!app.session.current()) {
        return h(
          'section',
          { class: 'panel' },
          heading('Sign in to edit'),
          h('p', {}, 'Only signed-in accounts can change users.'),
          h('p', {}, h('a', { href: '/login', class: 'button' }, 'Sign in')),
        );
      }
      const user = await app.api.request<User>(`/api/v1/users/${encodeURIComponent(id)}`);
      return editForm(app, user);
    },
  };
}

function editForm(app: AppContext, user: User): HTMLElement {
  const controls: Record<FieldName, Control> = {
    name: h('input', { id: 'field-name', name: 'name', value: user.name, required: true, autocomplete: 'off' }),
    email: h('input', { id: 'field-email', name: 'email', type: 'email', value: user.email, required: true }),
    role: select('role', ROLES, user.role),
    team: select('team', TEAMS, user.team),
    bio: h('textarea', { id: 'field-bio', name: 'bio', rows: 4, maxlength: 500 }, user.bio),
  };
  const labels: Record<FieldName, string> = { name: 'Name', email: 'Email', role: 'Role', team: 'Team', bio: 'Bio' };
  const errors = Object.fromEntries(
    FIELDS.map((name) => [
      name,
      h('p', { class: 'field-error', id: `error-${name}`, 'data-testid': `error-${name}`, hidden: true }),
    ]),
  ) as Record<FieldName, HTMLParagraphElement>;
  const formError = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'form-error', hidden: true });
  const save = h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'save' }, 'Save');
  const form = h(
    'form',
    { class: 'panel edit-form', 'data-testid': 'edit-form', novalidate: true },
    ...FIELDS.map((name) =>
      h(
        'div',
        { class: 'form-field' },
        h('label', { for: `field-${name}` }, labels[name]),
        controls[name],
        errors[name],
      ),
    ),
    formError,
    h('p', { class: 'actions' }, save, h('a', { href: `/users/${user.id}` }, 'Cancel')),
  );

  const showIssues = (issues: Issue[], message: string) => {
    const general: string[] = [];
    for (const issue of issues) {
      const name = FIELDS.find((f) => f === issue.path);
      if (!name) general.push(issue.path ? `${issue.path}: ${issue.message}` : issue.message);
      else {
        errors[name].textContent = issue.message;
        errors[name].hidden = false;
        controls[name].setAttribute('aria-invalid', 'true');
        controls[name].setAttribute('aria-describedby', `error-${name}`);
      }
    }
    showFormError([message, ...general].join(' '));
    const first = FIELDS.find((name) => !errors[name].hidden);
    if (first) controls[first].focus();
  };
  const showFormError = (text: string) => {
    formError.textContent = text;
    formError.hidden = text === '';
  };
  const clearIssues = () => {
    for (const name of FIELDS) {
      errors[name].hidden = true;
      controls[name].removeAttribute('aria-invalid');
      controls[name].removeAttribute('aria-describedby');
    }
    showFormError('');
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (save.getAttribute('aria-disabled') === 'true') return;
    clearIssues();
    save.setAttribute('aria-disabled', 'true');
    save.textContent = 'Saving…';
    const changes = Object.fromEntries(FIELDS.map((name) => [name, controls[name].value]));
    submit(app, user.id, changes)
      .then((answer) => {
        app.navigate(`/users/${user.id}`, {
          notice: `Saved — purged ${answer.purged.join(', ')} across every layer`,
        });
      })
      .catch((error: unknown) => {
        save.removeAttribute('aria-disabled');
        save.textContent = 'Save';
        if (isApiError(error)) showIssues(error.issues, messageFor(error.status, error.message));
        else if (isNetworkError(error))
          showFormError("You're offline: the change was not saved. Try again once online.");
        else console.error(error);
      });
  });
  return h('section', {}, heading(`Edit ${user.name}`), form);
}

/** Saves, then waits (briefly) until this browser has applied the purge, so the next page reads fresh data. */
async function submit(app: AppContext, id: number, changes: Record<string, string>): Promise<SaveAnswer> {
  const purged = app.purges.seen(`user:${id}`, PURGE_WAIT_MS);
  const answer = await app.api.request<SaveAnswer>(`/api/v1/users/${id}`, { method: 'PUT', body: changes, auth: true });
  await purged;
  return answer;
}

function messageFor(status: number, message: string): string {
  if (status === 400) return 'Some fields need fixing.';
  if (status === 401) return 'Your session is no longer valid: sign in again to save.';
  return `Not saved: ${message}.`;
}

function select(name: FieldName, options: readonly string[], value: string): HTMLSelectElement {
  const element = h('select', { id: `field-${name}`, name }, ...options.map((option) => h('option', {}, option)));
  // A value the list does not know (edited elsewhere) stays selectable rather than silently changing.
  if (!options.includes(value)) element.append(h('option', {}, value));
  element.value = value;
  return element;
}
