import { dataTable, h } from '../dom.js';

/** One route's row: its pattern, then its cells. */
export type RouteRow = [route: string, cells: (number | string)[]];

/** A table of counters per route: the route pattern, then one numeric cell per column. */
export function routeTable(
  testId: string,
  caption: string,
  columns: string[],
): { table: HTMLTableElement; show(rows: RouteRow[], empty: string): void } {
  const body = h('tbody', {});
  return {
    table: dataTable(testId, caption, ['Route', ...columns], body),
    /** Replaces the rows with `rows`, in their order, or with one row saying `empty`. */
    show(rows, empty) {
      if (rows.length === 0) {
        body.replaceChildren(h('tr', {}, h('td', { colspan: columns.length + 1 }, empty)));
        return;
      }
      body.replaceChildren(
        ...rows.map(([route, cells]) =>
          h(
            'tr',
            { 'data-route': route },
            h('th', { scope: 'row' }, h('code', {}, route)),
            ...cells.map((cell) => h('td', { class: 'numeric' }, cell)),
          ),
        ),
      );
    },
  };
}
