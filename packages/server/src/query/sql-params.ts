import { createHash } from 'node:crypto';

// A stable, collision-free JSON encoding of query parameters for the cache key. Two parameter lists
// get the same encoding only if node-postgres and PGlite would send the same values:
// - Date → {"$date": ISO 8601 in UTC} (the same instant, whatever the process time zone),
// - bigint → {"$bigint": decimal digits} (JSON.stringify throws on bigint),
// - Buffer and any other typed array or DataView → {"$bytes": base64 of the viewed bytes},
// - NaN and ±Infinity → {"$number": "NaN" | "Infinity" | "-Infinity"} (JSON would say null, the
//   drivers send the text),
// - undefined → null (both drivers send SQL NULL for either).
// A plain object's own keys that start with `$` get one more `$`, so a parameter written as
// {"$date": …} cannot be mistaken for a Date. Key order is kept: a `json` value keeps it too.

const TAG = /^\$/;

function encode(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString() };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value === 'object') {
    // Anything else with toJSON is sent as its JSON by node-postgres; encode what it gives.
    const toJson = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJson === 'function') return encode(toJson.call(value));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[TAG.test(key) ? `$${key}` : key] = encode(item);
    return out;
  }
  // Functions and symbols: JSON.stringify would drop them; there is no SQL value for them anyway.
  if (typeof value === 'function' || typeof value === 'symbol') return null;
  return value;
}

/** The parameters as JSON, with the encoding above. */
export function encodeParams(params: readonly unknown[]): string {
  return JSON.stringify(params.map(encode));
}

/** The digest of a canonical statement: computed once per statement text, not per call. */
export function statementDigest(canonical: string): string {
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * The cache key of a statement digest and its parameters: one sha256 (base64url) over both. The
 * parameters are hashed, never kept as they are: they can be a session token or an email, and
 * keys are seen by whoever reads the store or `/query-stats`.
 */
export function keyFor(digest: string, params: readonly unknown[] = []): string {
  // A digest holds no newline, so the separator cannot occur inside it.
  return createHash('sha256').update(digest).update('\n').update(encodeParams(params)).digest('base64url');
}

/**
 * The cache key of a canonical statement and its parameters. `queryKey(sql, p)` equals
 * `keyOf(analyzeSql(sql).canonical, p)`, so a caller holding an analysis need not parse twice.
 */
export function keyOf(canonical: string, params: readonly unknown[] = []): string {
  return keyFor(statementDigest(canonical), params);
}
