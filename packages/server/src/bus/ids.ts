import { StrataError } from '@strata/policy';
/** A bus id taken apart: the Redis stream id `<ms>-<seq>`, both unsigned 64-bit integers. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

/** The position before every event: "nothing seen yet". Never issued to an event (Redis starts at `0-1`). */
export const ZERO_ID = '0-0';

const MAX_U64 = '18446744073709551615';
// Canonical decimal only: no sign, no leading zero, no space, nothing around it. `$` in a JS
// regex without the `m` flag matches only at the very end, so a trailing newline is rejected too.
const ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const MAX_LENGTH = 2 * MAX_U64.length + 1;

const fitsU64 = (digits: string) => digits.length < MAX_U64.length || digits <= MAX_U64;

/** The two digit strings of a canonical id, or undefined. */
function parts(value: unknown): [ms: string, seq: string] | undefined {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
  const match = ID.exec(value);
  const ms = match?.[1];
  const seq = match?.[2];
  if (ms === undefined || seq === undefined || !fitsU64(ms) || !fitsU64(seq)) return undefined;
  return [ms, seq];
}

/**
 * Parses an id as Redis writes it. Only the canonical form is accepted (`01-0`, `+1-0`, `1`,
 * `1-0 ` are not), so equal ids are equal strings and a resume id from a client either names an
 * event exactly or is rejected.
 */
export function parseId(value: string): StreamId | undefined {
  const split = parts(value);
  return split && { ms: BigInt(split[0]), seq: BigInt(split[1]) };
}

export function isValidId(value: unknown): value is string {
  return parts(value) !== undefined;
}

// Canonical decimals of any length compare by length, then character by character: no BigInt needed.
const compareDigits = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/** Orders two ids numerically, part by part: negative, 0 or positive. Throws on an invalid id. */
export function compareIds(a: string, b: string): number {
  if (a === b) {
    if (!isValidId(a)) throw new StrataError('E_BUS_ID_INVALID', `invalid bus id: ${JSON.stringify(a)}`);
    return 0;
  }
  const x = parts(a);
  const y = parts(b);
  if (!x || !y) throw new StrataError('E_BUS_ID_INVALID', `invalid bus id: ${JSON.stringify(x ? b : a)}`);
  return Math.sign(compareDigits(x[0], y[0]) || compareDigits(x[1], y[1]));
}

/** The larger of two ids; `undefined` counts as smaller than any. */
export function maxId(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareIds(a, b) >= 0 ? a : b;
}

/**
 * Issues ids as Redis does — milliseconds, then a sequence within the millisecond — strictly
 * increasing even when the clock goes backwards: the millisecond never decreases, the sequence
 * counts up instead.
 */
export function idClock(now: () => number = Date.now): () => string {
  // Starts as if `0-0` had been issued, so the first id is above it whatever the clock says.
  let ms = 0;
  let seq = 0;
  return () => {
    const time = now();
    const current = Number.isFinite(time) && time > 0 ? Math.floor(time) : 0;
    if (current > ms) {
      ms = current;
      seq = 0;
    } else if (seq < Number.MAX_SAFE_INTEGER) {
      seq++;
    } else {
      ms++;
      seq = 0;
    }
    return `${ms}-${seq}`;
  };
}
