interface Link<V> {
  prev: Link<V>;
  next: Link<V>;
}

interface Node<V> extends Link<V> {
  key: string;
  value: V;
}

/**
 * A map that keeps its keys in recency order, oldest first: `set` and `touch` move a key last,
 * `shift` takes the oldest, each in O(1) whatever the size.
 *
 * A plain `Map` re-inserted on every touch keeps the same order, but not at that cost: V8 leaves a
 * deleted entry's slot in its table (and in its key's hash chain) until the table fills and is
 * rebuilt. Every delete + set of a hot key adds a slot that the next set of that key walks, and
 * every front eviction adds one that `keys().next()` walks from the start; both grow with the
 * map's capacity, so a full map pays O(size) per touch and per eviction. Here the order is a
 * doubly linked list and the `Map` only indexes it: a touch writes no slot, and only a key that
 * leaves frees one.
 */
export class RecencyMap<V> implements Iterable<[string, V]> {
  readonly #nodes = new Map<string, Node<V>>();
  /** The list's sentinel: `next` is the oldest node, `prev` the newest. */
  readonly #ends: Link<V>;

  constructor() {
    const ends = {} as Link<V>;
    ends.prev = ends;
    ends.next = ends;
    this.#ends = ends;
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** The key's value, leaving its place as it is. */
  get(key: string): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  /** The key's value, the key now the most recent; undefined when absent. */
  touch(key: string): V | undefined {
    const node = this.#nodes.get(key);
    if (!node) return undefined;
    this.#moveLast(node);
    return node.value;
  }

  /** Sets the key's value, the key now the most recent. */
  set(key: string, value: V): void {
    const node = this.#nodes.get(key);
    if (node) {
      node.value = value;
      this.#moveLast(node);
      return;
    }
    const ends = this.#ends;
    const added: Node<V> = { key, value, prev: ends.prev, next: ends };
    ends.prev.next = added;
    ends.prev = added;
    this.#nodes.set(key, added);
  }

  delete(key: string): boolean {
    const node = this.#nodes.get(key);
    if (!node) return false;
    this.#unlink(node);
    this.#nodes.delete(key);
    return true;
  }

  /** Removes the least recently used key and returns it with its value; undefined when empty. */
  shift(): [string, V] | undefined {
    const oldest = this.#ends.next;
    if (oldest === this.#ends) return undefined;
    const { key, value } = oldest as Node<V>;
    this.delete(key);
    return [key, value];
  }

  clear(): void {
    this.#nodes.clear();
    this.#ends.prev = this.#ends;
    this.#ends.next = this.#ends;
  }

  /** Oldest first. Deleting the entry just yielded is safe; other changes meanwhile are not. */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (let link = this.#ends.next; link !== this.#ends; ) {
      const { key, value, next } = link as Node<V>;
      yield [key, value];
      link = next;
    }
  }

  #moveLast(node: Node<V>): void {
    const ends = this.#ends;
    if (ends.prev === node) return;
    this.#unlink(node);
    node.prev = ends.prev;
    node.next = ends;
    ends.prev.next = node;
    ends.prev = node;
  }

  #unlink(node: Link<V>): void {
    node.prev.next = node.next;
    node.next.prev = node.prev;
  }
}
