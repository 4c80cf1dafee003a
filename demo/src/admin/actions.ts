import { type Api, isApiError, isNetworkError } from '../api.js';
import { dataTable, h } from '../dom.js';
import { formatClock, formatMs } from '../format.js';
import type { PurgeAnswer, WarmJob, WarmRun } from '../types.js';

/** The admin API, with the admin token. */
export type AdminCall = <T>(path: string, body: unknown) => Promise<T>;

export function adminCall(api: Api, token: string): AdminCall {
  return (path, body) => api.request(`/api/v1/cache${path}`, { method: 'POST', body, token });
}

/** What went wrong, in one line. */
export function failure(error: unknown): string {
  if (isApiError(error)) return `${error.code}: ${error.message}`;
  if (isNetworkError(error)) return 'The server could not be reached.';
  return String(error);
}

type Kind = 'tag' | 'pattern' | 'key';
type Mode = 'hard' | 'soft';

/**
 * The `/invalidate` body for one value of a kind. `soft` marks what it names stale (served while
 * one refresh runs) instead of dropping it; a pattern purge is always hard, so it goes without.
 */
export function invalidateBody(
  kind: Kind,
  value: string,
  mode: Mode = 'hard',
): ({ tags: string[] } | { pattern: string } | { keys: string[] }) & { mode?: 'soft' } {
  if (kind === 'pattern') return { pattern: value };
  const soft = mode === 'soft' ? { mode } : {};
  return kind === 'key' ? { keys: [value], ...soft } : { tags: [value], ...soft };
}

function purgeText(answer: PurgeAnswer): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const named = `${count(answer.tags.length, 'tag')}, ${count(answer.keys.length, 'key')}`;
  return answer.queued
    ? `Queued as ${answer.id} (${named}): delivered when the store is back.`
    : `Purge ${answer.id} sent (${named}).`;
}

/** Invalidate by tag, pattern or key. */
export function createInvalidateForm(call: AdminCall): HTMLFormElement {
  const kind = h(
    'select',
    { id: 'invalidate-kind', name: 'kind', 'data-testid': 'invalidate-kind' },
    h('option', { value: 'tag' }, 'Tag'),
    h('option', { value: 'pattern' }, 'Pattern'),
    h('option', { value: 'key' }, 'Key'),
  );
  const mode = h(
    'select',
    { id: 'invalidate-mode', name: 'mode', 'data-testid': 'invalidate-mode' },
    h('option', { value: 'hard' }, 'Hard: drop'),
    h('option', { value: 'soft' }, 'Soft: mark stale'),
  );
  const value = h('input', {
    id: 'invalidate-value',
    name: 'value',
    required: true,
    placeholder: 'user:1',
    autocomplete: 'off',
    'aria-describedby': 'invalidate-hint',
    'data-testid': 'invalidate-value',
  });
  const result = h('p', { class: 'result', role: 'status', 'data-testid': 'invalidate-result' });
  const form = h(
    'form',
    { class: 'inline-form', 'data-testid': 'invalidate-form' },
    h('div', { class: 'form-field' }, h('label', { for: 'invalidate-kind' }, 'Invalidate by'), kind),
    h('div', { class: 'form-field grow' }, h('label', { for: 'invalidate-value' }, 'Value'), value),
    h('div', { class: 'form-field' }, h('label', { for: 'invalidate-mode' }, 'Mode'), mode),
    h('button', { type: 'submit', class: 'button button-primary', 'data-testid': 'invalidate-submit' }, 'Invalidate'),
    h(
      'p',
      { id: 'invalidate-hint', class: 'hint muted' },
      'A tag such as users or user:1; a pattern, a glob over server-cache keys such as */api/v1/users*; or a key, a path or URL such as /api/v1/users/1. Soft keeps serving the old answer for its stale-while-revalidate window while one refresh runs (a pattern is always hard); after a write you must read back, use hard.',
    ),
  );
  const placeholders: Record<Kind, string> = { tag: 'user:1', pattern: '*/api/v1/users*', key: '/api/v1/users/1' };
  kind.addEventListener('change', () => {
    value.placeholder = placeholders[kind.value as Kind];
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = value.value.trim();
    if (!text) {
      result.textContent = 'Enter a tag, pattern or key to invalidate.';
      return;
    }
    result.textContent = 'Sending…';
    try {
      const body = invalidateBody(kind.value as Kind, text, mode.value as Mode);
      result.textContent = purgeText(await call<PurgeAnswer>('/invalidate', body));
    } catch (error) {
      result.textContent = failure(error);
    }
  });
  form.append(result);
  return form;
}

/** The clear-all button and its confirmation dialog: only "Clear everything" sends the request. */
export function createClearAll(call: AdminCall): HTMLElement {
  const result = h('p', { class: 'result', role: 'status', 'data-testid': 'clear-all-result' });
  const cancel = h('button', { type: 'submit', value: 'cancel', class: 'button' }, 'Cancel');
  const confirm = h(
    'button',
    { type: 'button', class: 'button button-danger', 'data-testid': 'clear-all-confirm' },
    'Clear everything',
  );
  const dialog = h(
    'dialog',
    { class: 'dialog', 'data-testid': 'clear-all-dialog', 'aria-labelledby': 'clear-all-title' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'clear-all-title' }, 'Clear every cache?'),
      h(
        'p',
        {},
        'This drops every server-cache entry, asks the CDN to purge everything, and tells every connected browser to drop its tagged entries. The next requests all go to the origin.',
      ),
      h('p', { class: 'actions' }, cancel, confirm),
    ),
  );
  const open = h('button', { type: 'button', class: 'button button-danger', 'data-testid': 'clear-all' }, 'Clear all…');
  open.addEventListener('click', () => {
    dialog.showModal();
    // The harmless choice takes focus, so Enter alone never clears everything.
    cancel.focus();
  });
  // Only this button sends the request; Cancel and Escape just close the dialog.
  confirm.addEventListener('click', async () => {
    dialog.close();
    result.textContent = 'Clearing…';
    try {
      const answer = await call<PurgeAnswer>('/clear-all', { confirm: 'clear-all' });
      result.textContent = answer.queued
        ? `Queued as ${answer.id}: delivered when the store is back.`
        : `Everything cleared (reset ${answer.id} sent to every browser).`;
    } catch (error) {
      result.textContent = failure(error);
    }
  });
  return h('div', { class: 'clear-all' }, open, result, dialog);
}

/** The warm jobs, updated in place each poll so a focused "Run now" button keeps its focus. */
export function createWarmers(call: AdminCall): { element: HTMLElement; update(jobs: WarmJob[]): void } {
  const body = h('tbody', {});
  const rows = new Map<string, { cells: HTMLTableCellElement[]; button: HTMLButtonElement }>();
  const result = h('p', { class: 'result', role: 'status', 'data-testid': 'warm-result' });
  const table = dataTable('warmers', 'Warm jobs', ['Job', 'Last run', 'Duration', 'Failures', 'Action'], body);

  const run = async (name: string, button: HTMLButtonElement) => {
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    result.textContent = `Running ${name}…`;
    try {
      const { runs } = await call<{ runs: ({ name: string } & WarmRun)[] }>('/warm', { jobs: [name] });
      result.textContent = runs.map(runText).join(' ');
    } catch (error) {
      result.textContent = failure(error);
    } finally {
      button.removeAttribute('aria-disabled');
    }
  };

  const rowFor = (name: string) => {
    const existing = rows.get(name);
    if (existing) return existing;
    const button = h(
      'button',
      { type: 'button', class: 'button button-small', 'data-testid': `warm-${name}` },
      'Run now',
    );
    button.setAttribute('aria-label', `Run ${name} now`);
    button.addEventListener('click', () => void run(name, button));
    const cells = [0, 1, 2, 3].map(() => h('td', {}));
    const row = { cells, button };
    rows.set(name, row);
    body.append(h('tr', { 'data-job': name }, ...cells, h('td', {}, button)));
    return row;
  };

  return {
    element: h(
      'div',
      {},
      h('div', { class: 'table-scroll', role: 'region', 'aria-label': 'Warm jobs', tabindex: 0 }, table),
      result,
    ),
    update(jobs) {
      for (const job of jobs) {
        const texts = [
          job.name,
          job.running ? 'running…' : lastRunText(job.lastRun),
          job.lastRun ? formatMs(job.lastRun.durationMs) : '—',
          `${job.failures} of ${job.runs} runs`,
        ];
        const { cells } = rowFor(job.name);
        for (const [i, text] of texts.entries()) {
          const cell = cells[i];
          if (cell && cell.textContent !== text) cell.textContent = text;
        }
        cells[1]?.setAttribute('title', job.lastRun?.error ?? '');
      }
    },
  };
}

function lastRunText(run: WarmRun | undefined): string {
  return run ? `${formatClock(new Date(run.startedAt))} · ${run.ok ? 'ok' : 'failed'}` : 'never';
}

function runText(run: { name: string } & WarmRun): string {
  return run.ok
    ? `${run.name} ran in ${formatMs(run.durationMs)}.`
    : `${run.name} failed: ${run.error ?? 'unknown error'}.`;
}
