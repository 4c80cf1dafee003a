import './styles.css';
import { registerStrata, type StrataClient } from '@strata/client';
import { createApi } from './api.js';
import { h } from './dom.js';
import { lazyView } from './lazy.js';
import { createNav } from './nav.js';
import { createNotices } from './notices.js';
import { createOverlay } from './overlay.js';
import { purgeLog } from './purges.js';
import { createRouter, type PageRoute, touches } from './router.js';
import { sessionStore } from './session.js';
import { dashboardView } from './views/dashboard.js';
import { loginView } from './views/login.js';
import { notFoundView } from './views/not-found.js';
import { loadingState } from './views/states.js';
import { userView } from './views/user.js';
import { userEditView } from './views/user-edit.js';
import { usersView } from './views/users.js';
import type { AppContext } from './views/view.js';

declare global {
  interface Window {
    /** For the end-to-end tests: the Strata client, and a promise of it once registered. */
    strataDemo: { readonly client: StrataClient | undefined; ready: Promise<StrataClient> };
  }
}

const ROUTES: PageRoute[] = [
  { pattern: '/', view: usersView },
  { pattern: '/users', view: usersView },
  { pattern: '/users/:id', view: userView },
  { pattern: '/users/:id/edit', view: userEditView },
  { pattern: '/dashboard', view: dashboardView },
  { pattern: '/login', view: loginView },
  // The cache dashboard is its own chunk, loaded when first shown.
  { pattern: '/admin', view: lazyView('Cache admin', async () => (await import('./admin/view.js')).adminView) },
];

const session = sessionStore(localStorage);
const overlay = createOverlay(localStorage);
const notices = createNotices();
const api = createApi({ userToken: () => session.current()?.token, record: overlay.record });
const main = h('main', { id: 'main', class: 'main', tabindex: -1 }, loadingState());
const nav = createNav(session, () => signOut());
let client: StrataClient | undefined;
let app: AppContext | undefined;
const router = createRouter({
  main,
  routes: ROUTES,
  notFound: notFoundView,
  app: () => app as AppContext,
  notify: notices.notify,
  onNavigate: (path) => nav.update(path),
});

/** Registers the service worker and puts it in the signed-in user's partition before any private request. */
async function register(): Promise<StrataClient> {
  const registered = await registerStrata({
    swUrl: '/sw.js',
    events: '/strata/events',
    // The purge stream carries the signed-in user's token, so their private purges (`me`) reach
    // this browser; read on every (re)connect, and the client reconnects on sign-in and sign-out.
    headers: (): Record<string, string> => {
      const token = session.current()?.token;
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  await registered
    .setUser(session.current()?.username ?? null)
    .catch((error: unknown) => console.warn('[demo] the service worker did not take the user', error));
  client = registered;
  // The worker opens any page offline from the stored shell (`navigationFallback: '/'`): make
  // sure the shell is stored, whichever page this visit started on.
  void fetch('/', { headers: { accept: 'text/html' } })
    .then((response) => response.body?.cancel())
    .catch(() => undefined);
  document.documentElement.dataset.strata = 'ready';
  return registered;
}

function start(strata: StrataClient): void {
  app = {
    api,
    client: strata,
    session,
    purges: purgeLog(strata),
    navigate: (path, options) => router.navigate(path, options),
    notify: notices.notify,
    async signIn(token, account) {
      session.signIn({ token, username: account.username, label: account.label });
      await strata.setUser(account.username);
    },
    signOut,
  };
  // Live updates: a purge naming what is on screen re-renders it in place.
  strata.on('purge', (purge) => {
    if (router.view && touches(router.view.tags, purge.tags)) {
      void router.refresh().then(() => notices.notify(`Updated (purge ${purge.id})`));
    }
  });
  strata.on('reset', (reset) => {
    if (router.view && router.view.tags.length > 0) {
      void router.refresh().then(() => notices.notify(`Updated (reset ${reset.id})`));
    }
  });
  strata.on('update', () => notices.notify('A new version of the service worker is now active'));
  addEventListener('online', () => {
    if (main.querySelector('[data-testid="offline"]')) void router.refresh();
  });
  router.start();
}

/**
 * Forgets the user everywhere: the token, everything personal the service worker stored (their
 * partition and the entries that varied on their token), the server session. The token goes
 * first, so the purge stream the client reopens on logout is anonymous.
 */
async function signOut(): Promise<void> {
  const token = session.current()?.token;
  session.signOut();
  try {
    await client?.logout();
  } catch (error) {
    console.warn('[demo] the service worker could not drop the private partition', error);
  }
  // Tokens are stateless: the server has nothing to forget, so an offline sign-out is still complete.
  if (token) await api.request('/api/v1/auth/logout', { method: 'POST', token }).catch(() => undefined);
  notices.notify('Signed out');
  await router.refresh();
}

const ready = register();
window.strataDemo = {
  get client() {
    return client;
  },
  ready,
};
document.body.append(nav.element, main, notices.element, overlay.element);
nav.update(location.pathname);
void ready.then(start);
