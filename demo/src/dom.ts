/** What `h` accepts as a child: nodes, text, or nothing (skipped). */
export type Child = Node | string | number | null | undefined | false;

type Attribute = string | number | boolean | null | undefined;
type Listener = (event: Event) => void;
export type Props = Record<string, Attribute | Listener>;

/**
 * Builds an element: attributes by name (`true` sets an empty attribute, `false`/`null`/`undefined`
 * leave it out), `on<event>` keys add listeners, children are appended in order.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

/** Appends children, skipping empty ones. */
export function append(parent: ParentNode, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** A scroll container for a wide table: it scrolls on its own on small screens, and by keyboard. */
export function scrollable(label: string, table: HTMLTableElement): HTMLDivElement {
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': label, tabindex: 0 }, table);
}

/** A data table: a caption for screen readers, a head row of `columns`, then `body`. */
export function dataTable(
  testId: string,
  caption: string,
  columns: string[],
  body: HTMLTableSectionElement,
): HTMLTableElement {
  return h(
    'table',
    { class: 'data-table', 'data-testid': testId },
    h('caption', { class: 'visually-hidden' }, caption),
    headRow(...columns),
    body,
  );
}

/** A table head row from column names. */
export function headRow(...columns: string[]): HTMLTableSectionElement {
  return h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', { scope: 'col' }, column))));
}
