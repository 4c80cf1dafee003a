import { isApiError, isNetworkError } from './api.js';
import { failedState, loadingState } from './views/states.js';
import type { AppContext, NavigateOptions, View, ViewFactory } from './views/view.js';

export interface PageRoute {
  /** `/users/:id`: literal segments and `:name` parameters. */
  pattern: string;
  view: ViewFactory;
}

/** The parameters of `path` if it matches `pattern` segment by segment. */
export function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of want.entries()) {
    const value = got[i] as string;
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(value);
    else if (segment !== value) return undefined;
  }
  return params;
}

/** Whether a purge (its tags) touches what a view shows. */
export function touches(viewTags: readonly string[], purgeTags: readonly string[]): boolean {
  return purgeTags.some((tag) => viewTags.includes(tag));
}

/** A selector that finds the focused element again after the content inside `root` is rebuilt. */
function focusSelector(root: HTMLElement): string | undefined {
  const active = document.activeElement;
  if (!active || active === root || !root.contains(active)) return undefined;
  if (active.id) return `#${CSS.escape(active.id)}`;
  const testId = active.getAttribute('data-testid');
  if (testId) return `[data-testid="${CSS.escape(testId)}"]`;
  const href = active.getAttribute('href');
  if (href) return `a[href="${CSS.escape(href)}"]`;
  return undefined;
}

export interface RouterDeps {
  main: HTMLElement;
  routes: PageRoute[];
  notFound: ViewFactory;
  app: () => AppContext;
  notify(text: string): void;
  /** Told after every navigation (the nav marks the current page). */
  onNavigate(path: string): void;
}

export interface Router {
  start(): void;
  navigate(path: string, options?: NavigateOptions): void;
  /** Renders the current view again in place: same scroll, no loading state, focus kept. */
  refresh(): Promise<void>;
  readonly view: View | undefined;
}

/** History-API routing: one view on screen at a time, re-rendered in place when its data is purged. */
export function createRouter(deps: RouterDeps): Router {
  const { main } = deps;
  let view: View | undefined;
  // Each render takes a number; a slower, older render never replaces a newer one.
  let renders = 0;
  // The first page leaves focus at the top of the document (the skip link comes first).
  let moved = false;

  async function show(current: View, mode: 'navigate' | 'refresh', options: NavigateOptions = {}): Promise<void> {
    const render = ++renders;
    if (mode === 'navigate') {
      main.replaceChildren(loadingState());
      main.setAttribute('aria-busy', 'true');
    }
    const scroll = window.scrollY;
    const focused = mode === 'refresh' ? focusSelector(main) : undefined;
    let node: Node;
    try {
      node = await current.render();
    } catch (error) {
      // Offline and API errors are states of the page; anything else is a bug worth a console entry.
      if (!isNetworkError(error) && !isApiError(error)) console.error(error);
      node = failedState(error, () => void show(current, 'navigate'));
    }
    if (render !== renders || current !== view) return;
    main.replaceChildren(node);
    main.removeAttribute('aria-busy');
    if (mode === 'refresh') {
      window.scrollTo(0, scroll);
      if (focused) main.querySelector<HTMLElement>(focused)?.focus({ preventScroll: true });
      return;
    }
    window.scrollTo(0, 0);
    const target = (options.focus && main.querySelector<HTMLElement>(options.focus)) || main.querySelector('h1');
    if (moved) target?.focus();
    if (options.notice) deps.notify(options.notice);
  }

  function route(options: NavigateOptions = {}): void {
    const { pathname, search } = location;
    view?.dispose?.();
    const query = new URLSearchParams(search);
    const match = deps.routes
      .map((r) => ({ factory: r.view, params: matchPattern(r.pattern, pathname) }))
      .find((m) => m.params !== undefined);
    view = (match?.factory ?? deps.notFound)(deps.app(), { params: match?.params ?? {}, query });
    document.title = `${view.title} · Strata demo`;
    deps.onNavigate(pathname);
    void show(view, 'navigate', options);
  }

  function navigate(path: string, options: NavigateOptions = {}): void {
    moved = true;
    if (options.replace) history.replaceState(null, '', path);
    else history.pushState(null, '', path);
    route(options);
  }

  // Same-origin links navigate inside the app; modified clicks, downloads and new tabs are left alone.
  function onClick(event: MouseEvent): void {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    const link = (event.target as Element | null)?.closest('a');
    if (!link || link.target || link.hasAttribute('download') || link.origin !== location.origin) return;
    event.preventDefault();
    if (link.pathname + link.search !== location.pathname + location.search) navigate(link.pathname + link.search);
  }

  return {
    start() {
      document.addEventListener('click', onClick);
      addEventListener('popstate', () => {
        moved = true;
        route();
      });
      route();
    },
    navigate,
    async refresh() {
      if (view) await show(view, 'refresh');
    },
    get view() {
      return view;
    },
  };
}
