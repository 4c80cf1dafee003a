import { describe, expect, it } from 'vitest';
import { resultCodec } from '../src/query/result-codec.js';

const codec = resultCodec<Record<string, unknown>>();
const roundTrip = (rows: Record<string, unknown>[], extra: { found?: string[] } = {}) =>
  codec.decode(codec.encode({ rows, rowCount: rows.length, command: 'SELECT', ...extra }));

describe('the query cache result codec', () => {
  it('gives back the rows, count, command and found tags, names once and rows as arrays', () => {
    const rows = [
      { id: 1, name: 'a', meta: { tags: ['x'], n: null }, score: 1.5, ok: true },
      { id: 2, name: null, meta: [1, { '\u0000date': 'not a date' }], score: 0, ok: false },
    ];
    const bytes = codec.encode({ rows, rowCount: 2, command: 'SELECT', found: ['row:public.t:1'] });
    expect(String.fromCharCode(bytes[0] as number)).toBe('C');
    expect(new TextDecoder().decode(bytes).match(/"name"/g)).toHaveLength(1);
    expect(codec.decode(bytes)).toEqual({ rows, rowCount: 2, command: 'SELECT', found: ['row:public.t:1'] });
  });

  it('keeps Date, bigint, Buffer and Uint8Array cells as they were', () => {
    const rows = [
      {
        at: new Date('2024-01-02T03:04:05.678Z'),
        big: 9007199254740993n,
        buf: Buffer.from([1, 2]),
        raw: new Uint8Array([3]),
      },
    ];
    const [row] = roundTrip(rows).rows;
    expect(row?.at).toEqual(rows[0]?.at);
    expect(row?.big).toBe(9007199254740993n);
    expect(Buffer.isBuffer(row?.buf)).toBe(true);
    expect(row?.buf).toEqual(Buffer.from([1, 2]));
    expect(row?.raw).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(row?.raw)).toBe(false);
    expect([...((row?.raw as Uint8Array | undefined) ?? [])]).toEqual([3]);
  });

  it('falls back to sqlCodec for Dates inside arrays, rows of other shapes and a __proto__ column', () => {
    const dates = [{ ats: [new Date('2024-01-01T00:00:00Z')] }];
    expect(roundTrip(dates).rows[0]?.ats).toEqual([new Date('2024-01-01T00:00:00Z')]);
    const ragged = [{ a: 1 }, { b: 2 }];
    expect(roundTrip(ragged).rows).toEqual(ragged);
    const proto = [JSON.parse('{"__proto__": 1, "a": 2}') as Record<string, unknown>];
    const back = roundTrip(proto).rows[0] as Record<string, unknown>;
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(back.a).toBe(2);
  });

  it('encodes an empty result', () => {
    expect(codec.decode(codec.encode({ rows: [], rowCount: 0, command: 'SELECT' }))).toEqual({
      rows: [],
      rowCount: 0,
      command: 'SELECT',
    });
  });
});
