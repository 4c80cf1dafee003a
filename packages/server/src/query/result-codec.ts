import type { Codec } from '../data-cache.js';
import { sqlCodec } from './sql-codec.js';
import type { SqlResult } from './types.js';

// The query cache's own encoding of a result: column names once, rows as arrays of values, and
// the few cells JSON cannot carry (Date, bigint, bytea) listed apart, so that decoding is one
// JSON.parse without a reviver. A result whose rows do not share one set of columns, which no
// driver returns, falls back to `sqlCodec`.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// sqlCodec's JSON starts with '{': a first byte of 'C' marks this encoding.
const COMPACT = 0x43;

type Special = [row: number, column: number, kind: 'd' | 'n' | 'b' | 'u', text: string];

function special(value: unknown): [Special[2], string] | undefined {
  if (value instanceof Date) return ['d', value.toISOString()];
  if (typeof value === 'bigint') return ['n', value.toString()];
  // node-postgres returns bytea as Buffer, PGlite as Uint8Array: each gets back what it gave.
  if (Buffer.isBuffer(value)) return ['b', value.toString('base64')];
  if (value instanceof Uint8Array) return ['u', Buffer.from(value).toString('base64')];
  return undefined;
}

/** True when a special value hides inside an array or object (a `timestamptz[]` cell is Dates). */
function nestedSpecial(value: unknown): boolean {
  if (Array.isArray(value)) return value.some((item) => special(item) !== undefined || nestedSpecial(item));
  if (typeof value !== 'object' || value === null || special(value)) return false;
  return Object.values(value).some((item) => special(item) !== undefined || nestedSpecial(item));
}

function revive(kind: Special[2], text: string): unknown {
  if (kind === 'd') return new Date(text);
  if (kind === 'n') return BigInt(text);
  if (kind === 'b') return Buffer.from(text, 'base64');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function prefixed(tag: number, text: string): Uint8Array {
  const body = encoder.encode(text);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = tag;
  bytes.set(body, 1);
  return bytes;
}

/** A result and, for a unique-key lookup, the row tags its load found. */
export type CachedResult<Row> = SqlResult<Row> & { found?: string[] };

export function resultCodec<Row>(): Codec<CachedResult<Row>> {
  const fallback = sqlCodec<CachedResult<Row>>();
  return {
    encode(result) {
      const records = result.rows as Record<string, unknown>[];
      const columns = records.length > 0 ? Object.keys(records[0] as object) : [];
      if (columns.includes('__proto__')) return fallback.encode(result);
      const specials: Special[] = [];
      const values: unknown[][] = [];
      for (const [r, record] of records.entries()) {
        if (Object.keys(record).length !== columns.length) return fallback.encode(result);
        const row = columns.map((column, c) => {
          if (!Object.hasOwn(record, column)) return undefined;
          const value = record[column];
          const found = special(value);
          if (!found) return nestedSpecial(value) ? undefined : value;
          specials.push([r, c, found[0], found[1]]);
          return null;
        });
        if (row.includes(undefined)) return fallback.encode(result);
        values.push(row);
      }
      const body = [columns, values, specials, result.rowCount, result.command, result.found ?? null];
      return prefixed(COMPACT, JSON.stringify(body));
    },
    decode(bytes) {
      if (bytes[0] !== COMPACT) return fallback.decode(bytes);
      const [columns, values, specials, rowCount, command, found] = JSON.parse(decoder.decode(bytes.subarray(1))) as [
        string[],
        unknown[][],
        Special[],
        number,
        string,
        string[] | null,
      ];
      for (const [r, c, kind, text] of specials) (values[r] as unknown[])[c] = revive(kind, text);
      const rows = values.map((row) => {
        const record: Record<string, unknown> = {};
        for (let c = 0; c < columns.length; c++) record[columns[c] as string] = row[c];
        return record as Row;
      });
      const result: CachedResult<Row> = { rows, rowCount, command };
      if (found) result.found = found;
      return result;
    },
  };
}
