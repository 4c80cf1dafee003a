import type { Api } from '../api.js';
import { h } from '../dom.js';
import type { PerformanceReport } from '../types.js';
import { failure } from './actions.js';

const REFRESH_MS = 15_000;

/** The performance report's plain-language advice, refreshed every 15 s. */
export function createAdvice(api: Api, token: string): { element: HTMLElement; stop(): void } {
  const list = h('ul', { class: 'advice', 'data-testid': 'advice' });
  const load = async () => {
    try {
      const report = await api.request<PerformanceReport>('/api/v1/cache/performance-report', { token, quiet: true });
      list.replaceChildren(
        ...(report.recommendations.length === 0
          ? [h('li', {}, 'Nothing to report yet: make a few requests first.')]
          : report.recommendations.map((r) =>
              h(
                'li',
                { class: `advice-${r.severity}` },
                h('strong', {}, `${r.severity}: `),
                r.problem,
                r.advice.length > 0 ? h('ul', {}, ...r.advice.map((line) => h('li', {}, line))) : null,
              ),
            )),
      );
    } catch (error) {
      list.replaceChildren(h('li', {}, `The report could not be loaded: ${failure(error)}`));
    }
  };
  void load();
  const timer = setInterval(load, REFRESH_MS);
  return { element: list, stop: () => clearInterval(timer) };
}
