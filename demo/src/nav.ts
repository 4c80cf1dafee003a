import logoUrl from './assets/logo.svg?no-inline';
import { h } from './dom.js';
import { displayName, type SessionStore } from './session.js';

const LINKS: [href: string, text: string, section: RegExp][] = [
  ['/users', 'Users', /^\/(?:users(?:\/.*)?)?$/],
  ['/dashboard', 'Dashboard', /^\/dashboard$/],
  ['/admin', 'Cache admin', /^\/admin$/],
];

export interface Nav {
  readonly element: HTMLElement;
  /** Marks the link of the current section and redraws the session area. */
  update(path: string): void;
}

/** The site header: logo, the three sections, and who is signed in. */
export function createNav(session: SessionStore, signOut: () => Promise<void>): Nav {
  const links = LINKS.map(([href, text]) => h('a', { href, class: 'nav-link' }, text));
  const account = h('div', { class: 'nav-account' });
  const element = h(
    'header',
    { class: 'site-header' },
    h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'),
    h(
      'div',
      { class: 'header-inner' },
      h(
        'a',
        { href: '/users', class: 'brand' },
        h('img', { src: logoUrl, alt: '', width: 32, height: 32 }),
        h('span', {}, 'Strata demo'),
      ),
      h('nav', { 'aria-label': 'Main' }, h('ul', { class: 'nav-list' }, ...links.map((link) => h('li', {}, link)))),
      account,
    ),
  );
  function renderAccount(): void {
    const current = session.current();
    if (!current) {
      account.replaceChildren(h('a', { href: '/login', class: 'nav-link', 'data-testid': 'sign-in' }, 'Sign in'));
      return;
    }
    const button = h('button', { type: 'button', class: 'link-button', 'data-testid': 'sign-out' }, 'Sign out');
    button.addEventListener('click', () => {
      button.disabled = true;
      void signOut();
    });
    account.replaceChildren(
      h('span', { 'data-testid': 'signed-in-as' }, `Signed in as ${displayName(current)}`),
      h('span', { 'aria-hidden': 'true' }, ' · '),
      button,
    );
  }

  session.onChange(renderAccount);
  return {
    element,
    update(path) {
      for (const [i, link] of links.entries()) {
        const section = LINKS[i]?.[2];
        if (section?.test(path)) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
      renderAccount();
    },
  };
}
