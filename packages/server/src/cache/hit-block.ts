import type { Entry } from './entry.js';

/** A hit's status and headers before they are flattened for the wire. */
export interface HitHeaders {
  status: number;
  headers: Map<string, string>;
}

interface Built {
  age: number;
  ttl: number;
  fields: string[];
}

interface Blocks {
  /**
   * Who the block was built for: the route's policy (its headers), a private answer's partition,
   * and the store tier that answered (`X-Cache-Level`: the same bytes are read from Redis once,
   * then from the in-process tier).
   */
  policy: object;
  partition: string | undefined;
  level: string;
  full?: Built;
  notModified?: Built;
}

/**
 * The header blocks of fresh hits, per stored entry: a hit's headers change only with its Age and
 * the `ttl` of its Cache-Status, both in whole seconds, so the flat `[name, value, …]` list is built
 * once per entry and second and every other hit reuses it. Held weakly by entry: the block goes
 * with the entry, so its number is bounded by the entries alive in this process.
 */
export class HitBlocks {
  readonly #blocks = new WeakMap<Entry, Blocks>();

  /**
   * The flat field list of a hit on `entry`, read from the tier `level`, at `age` seconds with `ttl`
   * seconds left (both whole), a 304 when `notModified`; `build` makes the headers when no block
   * of this second exists.
   */
  fields(
    entry: Entry,
    policy: object,
    partition: string | undefined,
    level: string,
    notModified: boolean,
    age: number,
    ttl: number,
    build: () => HitHeaders,
  ): string[] {
    let blocks = this.#blocks.get(entry);
    if (!blocks || blocks.policy !== policy || blocks.partition !== partition || blocks.level !== level) {
      blocks = { policy, partition, level };
      this.#blocks.set(entry, blocks);
    }
    const built = notModified ? blocks.notModified : blocks.full;
    if (built && built.age === age && built.ttl === ttl) return built.fields;
    const fields = flatten(build().headers);
    if (notModified) blocks.notModified = { age, ttl, fields };
    else blocks.full = { age, ttl, fields };
    return fields;
  }
}

/** A header Map as the flat list `ServerResponse.writeHead` takes. */
export function flatten(headers: ReadonlyMap<string, string>): string[] {
  const fields: string[] = [];
  for (const [name, value] of headers) fields.push(name, value);
  return fields;
}
