import { isApiError, isNetworkError } from '../api.js';
import { h } from '../dom.js';
import { displayName } from '../session.js';
import type { Account, LoginAnswer } from '../types.js';
import { heading } from './states.js';
import type { AppContext, View } from './view.js';

/** `/login`: one button per demo account. */
export function loginView(app: AppContext): View {
  return {
    title: 'Sign in',
    tags: [],
    async render() {
      const { accounts } = await app.api.request<{ accounts: Account[] }>('/api/v1/auth/accounts');
      const status = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'login-error', hidden: true });
      const current = app.session.current();
      return h(
        'section',
        { class: 'panel narrow' },
        heading('Sign in'),
        h(
          'p',
          {},
          current
            ? `You are signed in as ${displayName(current)}. Choose an account to switch.`
            : 'Choose a demo account. Its own record (/api/v1/me) is cached privately, per account.',
        ),
        h(
          'ul',
          { class: 'account-list' },
          ...accounts.map((account) => h('li', {}, accountButton(app, account, status))),
        ),
        status,
      );
    },
  };
}

function accountButton(app: AppContext, account: Account, status: HTMLElement): HTMLButtonElement {
  const name = displayName(account);
  const button = h(
    'button',
    { type: 'button', class: 'button button-primary', 'data-testid': `login-${account.username}` },
    `Sign in as ${account.label}`,
  );
  button.addEventListener('click', async () => {
    status.hidden = true;
    try {
      const answer = await app.api.request<LoginAnswer>('/api/v1/auth/login', {
        method: 'POST',
        body: { username: account.username },
      });
      await app.signIn(answer.token, answer.account);
      app.navigate('/dashboard', { notice: `Signed in as ${name}` });
    } catch (error) {
      if (!isApiError(error) && !isNetworkError(error)) return console.error(error);
      status.textContent = isNetworkError(error) ? "You're offline: signing in needs the server." : error.message;
      status.hidden = false;
    }
  });
  return button;
}
