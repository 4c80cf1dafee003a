import type { Codec } from '../data-cache.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DATE = '\u0000date';
const BIGINT = '\u0000bigint';
const BYTES = '\u0000bytes';
const BUFFER = '\u0000buffer';

/** JSON that keeps the types drivers return for rows: Date, bigint and bytea (Uint8Array/Buffer). */
export function sqlCodec<T>(): Codec<T> {
  return {
    encode: (value) =>
      encoder.encode(
        JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
          const raw = this[key];
          if (raw instanceof Date) return { [DATE]: raw.toISOString() };
          if (typeof v === 'bigint') return { [BIGINT]: v.toString() };
          // node-postgres returns bytea as Buffer, PGlite as Uint8Array: each gets back what it gave.
          if (Buffer.isBuffer(raw)) return { [BUFFER]: raw.toString('base64') };
          if (raw instanceof Uint8Array) return { [BYTES]: Buffer.from(raw).toString('base64') };
          return v;
        }),
      ),
    decode: (bytes) =>
      JSON.parse(decoder.decode(bytes), (_key, v: unknown) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const o = v as Record<string, unknown>;
          if (typeof o[DATE] === 'string') return new Date(o[DATE]);
          if (typeof o[BIGINT] === 'string') return BigInt(o[BIGINT]);
          if (typeof o[BYTES] === 'string') return new Uint8Array(Buffer.from(o[BYTES], 'base64'));
          if (typeof o[BUFFER] === 'string') return Buffer.from(o[BUFFER], 'base64');
        }
        return v;
      }) as T,
  };
}
