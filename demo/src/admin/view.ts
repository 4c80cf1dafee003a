import { isApiError, isNetworkError } from '../api.js';
import { h } from '../dom.js';
import type { CacheStats } from '../types.js';
import { failedState, heading } from '../views/states.js';
import type { AppContext, View } from '../views/view.js';
import { adminCall, createClearAll, createInvalidateForm, createWarmers, failure } from './actions.js';
import { createAdvice } from './advice.js';
import { createHitChart } from './chart.js';
import { createPurgeLogPanel } from './purge-log.js';
import { type Reading, rateBetween } from './rates.js';
import { createCards, createOutageBanner, createRouteTable } from './stats-panel.js';
import { createSwStats } from './sw-stats.js';

const POLL_MS = 1_000;

const isRefused = (error: unknown) => isApiError(error) && (error.status === 401 || error.status === 403);

/** `/admin`: the cache dashboard, behind the admin token. */
export function adminView(app: AppContext): View {
  let stop: (() => void) | undefined;
  // Each show takes a number: one that finishes after a newer one, or after the reader left, does nothing.
  let shows = 0;
  const root = h('div', { class: 'admin' });

  async function show(message?: string): Promise<void> {
    const current = ++shows;
    stop?.();
    stop = undefined;
    const token = app.session.adminToken();
    if (!token) {
      root.replaceChildren(tokenForm(app, message, () => void reshow()));
      return;
    }
    let first: CacheStats;
    try {
      first = await fetchStats(app, token);
    } catch (error) {
      if (current !== shows) return;
      if (!isRefused(error)) throw error;
      app.session.setAdminToken(undefined);
      return show(`The server refused this token (${failure(error)}). Enter the admin token again.`);
    }
    if (current !== shows) return;
    const dashboard = createDashboard(app, token, first, (message) => {
      app.session.setAdminToken(undefined);
      void reshow(message);
    });
    stop = dashboard.stop;
    root.replaceChildren(dashboard.element);
  }

  /** `show` outside a render (after the token form): its failures become the page's state here. */
  const reshow = (message?: string): Promise<void> =>
    show(message)
      .catch((error: unknown) => {
        root.replaceChildren(failedState(error, () => void reshow()));
      })
      .then(() => root.querySelector('h1')?.focus());

  return {
    title: 'Cache admin',
    tags: [],
    async render() {
      await show();
      return root;
    },
    dispose() {
      shows++;
      stop?.();
    },
  };
}

const fetchStats = (app: AppContext, token: string) =>
  app.api.request<CacheStats>('/api/v1/cache/stats', { token, quiet: true });

function tokenForm(app: AppContext, message: string | undefined, done: () => void): HTMLElement {
  const input = h('input', {
    id: 'admin-token',
    name: 'token',
    type: 'password',
    required: true,
    autocomplete: 'off',
    'aria-describedby': 'admin-token-hint',
    'data-testid': 'admin-token',
  });
  const form = h(
    'form',
    { class: 'panel narrow', 'data-testid': 'admin-token-form' },
    heading('Cache admin'),
    message ? h('p', { class: 'form-error', role: 'alert', 'data-testid': 'admin-auth-error' }, message) : null,
    h('div', { class: 'form-field' }, h('label', { for: 'admin-token' }, 'Admin token'), input),
    h(
      'p',
      { id: 'admin-token-hint', class: 'muted' },
      'The server prints it at start (STRATA_ADMIN_TOKEN). It is kept in this browser only.',
    ),
    h('p', { class: 'actions' }, h('button', { type: 'submit', class: 'button button-primary' }, 'Open the dashboard')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return input.focus();
    app.session.setAdminToken(token);
    done();
  });
  return form;
}

/** A titled panel of the dashboard; `name` gives its class (`admin-<name>`) and heading id. */
function section(title: string, name: string, ...children: Node[]): HTMLElement {
  const id = `${name}-title`;
  return h('section', { class: `panel admin-${name}`, 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/**
 * The dashboard itself, polling the stats every second until stopped. `leave` forgets the token
 * and shows the token form again, with a message when the server refused it.
 */
function createDashboard(app: AppContext, token: string, first: CacheStats, leave: (message?: string) => void) {
  const call = adminCall(app.api, token);
  const cards = createCards();
  const outage = createOutageBanner();
  const chart = createHitChart();
  const routes = createRouteTable();
  const warmers = createWarmers(call);
  const swStats = createSwStats(app.client);
  const purgeLog = createPurgeLogPanel(app.purges);
  const advice = createAdvice(app.api, token);
  const connection = h('p', { class: 'connection', role: 'status', 'data-testid': 'admin-connection' });
  const forget = h('button', { type: 'button', class: 'link-button', 'data-testid': 'admin-forget' }, 'Forget token');
  forget.addEventListener('click', () => leave());
  forget.setAttribute('aria-label', 'Forget the admin token');

  const element = h(
    'div',
    { class: 'admin-grid' },
    h('div', { class: 'admin-head' }, heading('Cache admin'), connection, forget),
    outage.element,
    cards.element,
    section('Answers per second', 'chart', chart.element),
    section('Purges in this browser', 'purges', purgeLog.element),
    section('Server cache per route', 'routes', routes.element),
    section('Service worker per route (this browser)', 'sw', swStats.element),
    section('Invalidate', 'invalidate', createInvalidateForm(call), createClearAll(call)),
    section('Advice', 'advice', advice.element),
    section('Warmers', 'warmers', warmers.element),
  );

  let previous: Reading | undefined;
  const apply = (stats: CacheStats) => {
    const reading = { at: Date.now(), totals: stats.totals };
    const sample = previous && rateBetween(previous, reading);
    if (sample) chart.add(sample);
    previous = reading;
    cards.update(stats);
    outage.update(stats);
    routes.update(stats);
    warmers.update(stats.warming);
  };

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    try {
      const stats = await fetchStats(app, token);
      if (stopped) return;
      apply(stats);
      connection.textContent = '';
    } catch (error) {
      if (stopped) return;
      if (isRefused(error)) return leave('The admin token is no longer accepted. Enter it again.');
      connection.textContent = isNetworkError(error)
        ? 'The server cannot be reached; retrying every second.'
        : `Stats failed: ${failure(error)}`;
    }
    await swStats.refresh();
    if (!stopped) timer = setTimeout(poll, POLL_MS);
  };
  apply(first);
  void swStats.refresh();
  timer = setTimeout(poll, POLL_MS);

  return {
    element,
    stop() {
      stopped = true;
      clearTimeout(timer);
      chart.destroy();
      purgeLog.stop();
      advice.stop();
    },
  };
}
