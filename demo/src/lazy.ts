import type { AppContext, RouteParams, View, ViewFactory } from './views/view.js';

/**
 * A page whose code is loaded when it is first shown: its own chunk of the build, fetched by the
 * router's render. A page of an older deploy still finds that chunk after a new deploy (the
 * worker keeps the previous deploy's precached files while one of its pages is open).
 */
export function lazyView(title: string, load: () => Promise<ViewFactory>): ViewFactory {
  return (app: AppContext, route: RouteParams): View => {
    let inner: View | undefined;
    let disposed = false;
    return {
      title,
      get tags() {
        return inner?.tags ?? [];
      },
      async render() {
        inner ??= (await load())(app, route);
        if (disposed) inner.dispose?.();
        return inner.render();
      },
      dispose() {
        disposed = true;
        inner?.dispose?.();
      },
    };
  };
}
