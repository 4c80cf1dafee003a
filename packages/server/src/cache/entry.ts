import { StrataError } from '@strata/policy';

/** A stored response, with what the cache needs to judge it. */
export interface Entry {
  status: number;
  /**
   * The stored header fields as one flat list, `[name, value, name, value, …]`, names lower-case:
   * the layout `ServerResponse.writeHead` takes, so a hit's header block is this list plus the
   * few fields that change per request. `etag` is among them and also below.
   */
  fields: string[];
  /** The entry's validator (every stored response has one), for If-None-Match without a search. */
  etag: string | null;
  body: Uint8Array;
  /** When it was stored (ms since epoch). Ages are measured from here, not from `Date`. */
  storedAt: number;
  /** Upstream `Age` at store time, in seconds (RFC 9111 §4.2.3). */
  age: number;
  /** Seconds fresh, then seconds it may be served stale while revalidating / while the origin fails. */
  ttl: number;
  swr: number;
  sie: number;
  /** The version of each tag when the origin fetch began; any later bump makes the entry a miss. */
  tags: Record<string, number>;
}

/**
 * The format version of the entries this build writes, and the only one it reads. Bump it with
 * any change to the header's fields or their meaning. Instances of two builds may share a store
 * (a rolling deploy on one Redis): each treats the other's entries as misses and overwrites them,
 * so neither serves what it cannot read.
 */
export const ENTRY_FORMAT = 2;
// Format 1 kept the fields as `[name, value]` pairs and no separate `etag`.

type Header = Omit<Entry, 'body'> & { v: typeof ENTRY_FORMAT };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Binary layout: 4-byte big-endian header length, the header as JSON, then the raw body bytes.
 * The header's `v` is the format version. Every version keeps this frame and `v`, so a reader
 * can always tell an entry of another version from a corrupt one.
 */
export function encodeEntry(entry: Entry): Uint8Array {
  const { body, ...rest } = entry;
  const header = JSON.stringify({ v: ENTRY_FORMAT, ...rest } satisfies Header);
  // One allocation: the header is encoded in place, its length known beforehand.
  const length = Buffer.byteLength(header);
  const out = new Uint8Array(4 + length + body.byteLength);
  out[0] = length >>> 24;
  out[1] = (length >>> 16) & 0xff;
  out[2] = (length >>> 8) & 0xff;
  out[3] = length & 0xff;
  encoder.encodeInto(header, out.subarray(4, 4 + length));
  out.set(body, 4 + length);
  return out;
}

/**
 * The entry in `bytes`, or undefined when it was written in another format version (not an
 * error: another build's entry, to be treated as a miss). Bytes that are not an entry at all
 * throw `E_ENTRY_CORRUPT`.
 */
export function decodeEntry(bytes: Uint8Array): Entry | undefined {
  try {
    if (bytes.byteLength < 4) throw new StrataError('E_ENTRY_CORRUPT', 'truncated');
    const length =
      (((bytes[0] as number) << 24) >>> 0) +
      ((bytes[1] as number) << 16) +
      ((bytes[2] as number) << 8) +
      (bytes[3] as number);
    if (4 + length > bytes.byteLength) throw new StrataError('E_ENTRY_CORRUPT', 'truncated');
    const header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + length))) as Header | null;
    if (typeof header?.v !== 'number') throw new StrataError('E_ENTRY_CORRUPT', 'no format version');
    if (header.v !== ENTRY_FORMAT) return undefined;
    if (typeof header.status !== 'number' || !Array.isArray(header.fields) || header.fields.length % 2 !== 0) {
      throw new StrataError('E_ENTRY_CORRUPT', 'unknown layout');
    }
    const { v: _, ...rest } = header;
    return { ...rest, body: bytes.slice(4 + length) };
  } catch (error) {
    throw new StrataError('E_ENTRY_CORRUPT', `stored entry cannot be decoded: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** A flat field list (`Entry.fields`) as `[name, value]` pairs. */
export function pairs(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i] as string, fields[i + 1] as string]);
  return out;
}

/** Seconds the entry must stay in the store: fresh, then the longest stale window. */
export const storeTtl = (entry: Pick<Entry, 'ttl' | 'swr' | 'sie'>): number =>
  entry.ttl + Math.max(entry.swr, entry.sie);

/** Where a reader counts what it turned away. */
export interface ReadCounters {
  corruptEntries: number;
  invalidatedReads: number;
}

/** A decoded entry and how many tags it was written under, kept per stored value. */
interface Decoded {
  entry: Entry;
  tagCount: number;
}

/**
 * Turns stored bytes into a usable entry: decoded at most once per value (an in-process store
 * hands back the same bytes on every hit), and only while its tags are exactly the ones asked
 * for, at the versions the store holds now. An entry written under an older version of any of
 * its tags is a miss: this is how purges apply. So is an entry in another format version.
 */
export class EntryReader {
  readonly #decoded = new WeakMap<Uint8Array, Decoded>();
  readonly #counters: ReadCounters;

  constructor(counters: ReadCounters) {
    this.#counters = counters;
  }

  read(value: Uint8Array | undefined, tags: readonly string[], versions: readonly number[]): Entry | undefined {
    const decoded = this.#decode(value);
    if (!decoded) return undefined;
    const { entry, tagCount } = decoded;
    const recorded = entry.tags;
    let current = tagCount === tags.length;
    for (let i = 0; current && i < tags.length; i++) current = recorded[tags[i] as string] === (versions[i] ?? 0);
    if (!current) {
      this.#counters.invalidatedReads++;
      return undefined;
    }
    return entry;
  }

  /**
   * An entry `read` turned away that soft purges may have left servable: it carries exactly
   * `tags`, none at a version above the current one. `behind` are the indexes of the tags it is
   * behind on (never empty). Undefined for anything else.
   */
  superseded(
    value: Uint8Array | undefined,
    tags: readonly string[],
    versions: readonly number[],
  ): { entry: Entry; behind: number[] } | undefined {
    const decoded = this.#decode(value);
    if (!decoded || decoded.tagCount !== tags.length) return undefined;
    const { entry } = decoded;
    const behind: number[] = [];
    for (const [i, tag] of tags.entries()) {
      const lag = (versions[i] ?? 0) - (entry.tags[tag] ?? Number.NaN);
      if (lag > 0) behind.push(i);
      else if (lag !== 0) return undefined;
    }
    return behind.length > 0 ? { entry, behind } : undefined;
  }

  #decode(value: Uint8Array | undefined): Decoded | undefined {
    if (!value) return undefined;
    let decoded = this.#decoded.get(value);
    if (!decoded) {
      let entry: Entry | undefined;
      try {
        entry = decodeEntry(value);
      } catch {
        this.#counters.corruptEntries++;
        return undefined;
      }
      if (!entry) return undefined; // another build's format: a miss, and the load overwrites it
      decoded = { entry, tagCount: Object.keys(entry.tags).length };
      this.#decoded.set(value, decoded);
    }
    return decoded;
  }
}
