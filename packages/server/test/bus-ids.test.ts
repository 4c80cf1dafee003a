import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIds, idClock, isValidId, maxId, parseId, ZERO_ID } from '../src/bus/ids.js';

const MAX_U64 = 2n ** 64n - 1n;
const u64 = fc.bigInt({ min: 0n, max: MAX_U64 });
/** Mostly small parts, so equal milliseconds (and equal ids) come up often, plus the full range. */
const part = fc.oneof(fc.bigInt({ min: 0n, max: 3n }), fc.bigInt({ min: 0n, max: 2n ** 53n + 5n }), u64);
const streamId = fc.record({ ms: part, seq: part });
const text = ({ ms, seq }: { ms: bigint; seq: bigint }) => `${ms}-${seq}`;
const oracle = (a: { ms: bigint; seq: bigint }, b: { ms: bigint; seq: bigint }) =>
  a.ms === b.ms ? (a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1) : a.ms < b.ms ? -1 : 1;

describe('parseId', () => {
  it('parses canonical ids, up to 64-bit parts', () => {
    expect(parseId('0-0')).toEqual({ ms: 0n, seq: 0n });
    expect(parseId('1526919030474-55')).toEqual({ ms: 1526919030474n, seq: 55n });
    expect(parseId('18446744073709551615-18446744073709551615')).toEqual({ ms: MAX_U64, seq: MAX_U64 });
    expect(parseId(`1-${2n ** 60n}`)).toEqual({ ms: 1n, seq: 2n ** 60n });
  });

  it.each([
    ['empty', ''],
    ['no sequence', '1526919030474'],
    ['empty parts', '-'],
    ['empty sequence', '1-'],
    ['empty milliseconds', '-1'],
    ['three parts', '1-2-3'],
    ['plus sign', '+1-0'],
    ['signed sequence', '1-+0'],
    ['negative sequence', '1--1'],
    ['leading space', ' 1-0'],
    ['trailing space', '1-0 '],
    ['trailing newline', '1-0\n'],
    ['CRLF inside', '1\r\n-0'],
    ['NUL', '1-0\u0000'],
    ['NUL alone', '\u0000'],
    ['leading zero', '01-0'],
    ['leading zero in sequence', '1-00'],
    ['decimal point', '1.5-0'],
    ['exponent', '1e3-0'],
    ['hex', '0x1-0'],
    ['fullwidth digits', '\uff11-0'],
    ['Arabic-Indic digits', '\u0661-0'],
    ['leading garbage', 'x1-0'],
    ['trailing garbage', '1-0x'],
    ['milliseconds beyond 64 bits', '18446744073709551616-0'],
    ['sequence beyond 64 bits', '1-18446744073709551616'],
    ['21 digits', '100000000000000000000-0'],
    ['overlong', `${'9'.repeat(500)}-0`],
    ['wildcard', '*'],
    ['range markers', '+'],
    ['exclusive marker', '(1-0'],
  ])('rejects %s', (_name, input) => {
    expect(parseId(input)).toBeUndefined();
    expect(isValidId(input)).toBe(false);
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 1, 1n, {}, ['1-0'], { toString: () => '1-0' }]) {
      expect(isValidId(value)).toBe(false);
    }
  });

  it('round-trips every pair of 64-bit integers', () => {
    fc.assert(
      fc.property(streamId, (id) => {
        expect(parseId(text(id))).toEqual(id);
      }),
    );
  });

  it('accepts only canonical text: whatever parses prints back identically', () => {
    const noisy = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('-', '+', '0', '1', '9', ' ', '\u0000', 'e', 'x'), maxLength: 12 }),
      streamId.map((id) => `${text(id)}${' '}`),
    );
    fc.assert(
      fc.property(noisy, (input) => {
        const parsed = parseId(input);
        if (parsed) expect(text(parsed)).toBe(input);
      }),
    );
  });
});

describe('compareIds', () => {
  it('agrees with BigInt ordering of (ms, seq)', () => {
    fc.assert(
      fc.property(streamId, streamId, (a, b) => {
        expect(compareIds(text(a), text(b))).toBe(oracle(a, b));
        expect(compareIds(text(b), text(a))).toBe(oracle(b, a));
      }),
      { numRuns: 2_000 },
    );
  });

  it('compares numerically, not as text', () => {
    expect(compareIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareIds('1-9', '1-10')).toBeLessThan(0);
    expect(compareIds('2-0', '1-18446744073709551615')).toBeGreaterThan(0);
    expect(compareIds('9007199254740993-0', '9007199254740992-0')).toBeGreaterThan(0); // above 2^53
    expect(compareIds('1-9007199254740993', '1-9007199254740992')).toBeGreaterThan(0);
    expect(compareIds(ZERO_ID, '0-1')).toBeLessThan(0);
    expect(compareIds('5-5', '5-5')).toBe(0);
  });

  it('throws on an invalid id rather than guessing an order', () => {
    expect(() => compareIds('1-0', 'nope')).toThrow(expect.objectContaining({ code: 'E_BUS_ID_INVALID' }));
    expect(() => compareIds('01-0', '1-0')).toThrow(expect.objectContaining({ code: 'E_BUS_ID_INVALID' }));
    expect(() => compareIds('x', 'x')).toThrow(expect.objectContaining({ code: 'E_BUS_ID_INVALID' }));
  });

  it('maxId treats undefined as the smallest', () => {
    expect(maxId(undefined, '1-0')).toBe('1-0');
    expect(maxId('2-0', undefined)).toBe('2-0');
    expect(maxId('2-0', '10-0')).toBe('10-0');
    expect(maxId(undefined, undefined)).toBeUndefined();
  });
});

describe('idClock', () => {
  it('issues valid ids from the clock, counting within a millisecond', () => {
    let now = 1_700_000_000_000;
    const next = idClock(() => now);
    expect([next(), next(), next()]).toEqual(['1700000000000-0', '1700000000000-1', '1700000000000-2']);
    now += 5;
    expect(next()).toBe('1700000000005-0');
  });

  it('stays strictly increasing when the clock goes backwards or misbehaves', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -5, max: 2_000 }), fc.constant(Number.NaN), fc.constant(-Infinity))),
        (times) => {
          const queue = [...times];
          const next = idClock(() => queue.shift() ?? 0);
          let previous = ZERO_ID;
          for (let i = 0; i < times.length + 3; i++) {
            const id = next();
            expect(isValidId(id)).toBe(true);
            expect(compareIds(id, previous)).toBeGreaterThan(0);
            previous = id;
          }
        },
      ),
    );
  });

  it('never issues 0-0, even at time zero', () => {
    const next = idClock(() => 0);
    expect(next()).toBe('0-1');
    expect(next()).toBe('0-2');
  });
});
