import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIds, ZERO_ID } from '../src/bus/ids.js';
import { type LogBounds, resumeDecision } from '../src/bus/resume.js';

const replay = (from: string) => ({ type: 'replay', from });
const RETENTION = { type: 'reset', reason: 'retention' };
const UNKNOWN = { type: 'reset', reason: 'unknown' };

/** A log that issued `1-0` … `10-0` and still holds them all. */
const whole: LogBounds = { newest: '10-0', oldest: '1-0', trimmed: false, removedThrough: undefined, holdsFrom: false };

describe('resumeDecision', () => {
  it('without a resume id, the subscriber goes live whatever the log holds', () => {
    expect(resumeDecision(undefined, whole)).toEqual({ type: 'live' });
    expect(resumeDecision(undefined, { ...whole, newest: undefined, oldest: undefined })).toEqual({ type: 'live' });
  });

  it('an id that is not a canonical stream id is unknown, before anything is compared', () => {
    for (const from of ['', '1', '01-0', '1-0 ', 'abc', '-1-0']) {
      expect(resumeDecision(from, { ...whole, holdsFrom: true })).toEqual(UNKNOWN);
    }
  });

  it('on a log that never existed, 0-0 replays (nothing) and any other id is unknown', () => {
    const none: LogBounds = {
      newest: undefined,
      oldest: undefined,
      trimmed: false,
      removedThrough: undefined,
      holdsFrom: false,
    };
    expect(resumeDecision(ZERO_ID, none)).toEqual(replay(ZERO_ID));
    expect(resumeDecision('5-0', none)).toEqual(UNKNOWN);
  });

  it('an id after the newest one issued is unknown, even one the log claims to hold', () => {
    expect(resumeDecision('10-1', { ...whole, holdsFrom: true })).toEqual(UNKNOWN);
  });

  it('a held id, or 0-0 on a log that never lost anything, replays', () => {
    expect(resumeDecision('4-0', { ...whole, holdsFrom: true })).toEqual(replay('4-0'));
    expect(resumeDecision(ZERO_ID, whole)).toEqual(replay(ZERO_ID));
    expect(resumeDecision('10-0', { ...whole, holdsFrom: true })).toEqual(replay('10-0'));
  });

  it('an id the log does not hold, inside or before its range with nothing removed, is unknown', () => {
    expect(resumeDecision('4-1', whole)).toEqual(UNKNOWN);
    expect(resumeDecision('0-5', whole)).toEqual(UNKNOWN);
  });

  it('an id below the highest removed one is too old, even when it is held (an XDEL after it)', () => {
    const deleted = { ...whole, removedThrough: '6-0', trimmed: true };
    expect(resumeDecision('5-0', { ...deleted, holdsFrom: true })).toEqual(RETENTION);
    expect(resumeDecision(ZERO_ID, deleted)).toEqual(RETENTION);
    // The deleted id itself, inside the retained range: everything after it is still there.
    expect(resumeDecision('6-0', deleted)).toEqual(replay('6-0'));
  });

  it('after trimming, an id before the oldest retained one is too old, unless it is the newest', () => {
    const trimmed: LogBounds = {
      newest: '10-0',
      oldest: '7-0',
      trimmed: true,
      removedThrough: ZERO_ID,
      holdsFrom: false,
    };
    expect(resumeDecision('3-0', trimmed)).toEqual(RETENTION);
    expect(resumeDecision('6-9', trimmed)).toEqual(RETENTION);
    expect(resumeDecision(ZERO_ID, trimmed)).toEqual(RETENTION);
    // Everything trimmed (an empty stream that had entries): its newest id is where to go on from.
    const emptied: LogBounds = {
      newest: '10-0',
      oldest: undefined,
      trimmed: true,
      removedThrough: ZERO_ID,
      holdsFrom: false,
    };
    expect(resumeDecision('10-0', emptied)).toEqual(replay('10-0'));
    expect(resumeDecision('9-0', emptied)).toEqual(RETENTION);
  });

  it('on a ring that knows exactly what it dropped, matches the resume rules for every id', () => {
    // Ids 1-0 … n-0 issued, the last `kept` retained; resume ids cover issued, never issued and 0-0.
    const ring = fc
      .record({ n: fc.integer({ min: 1, max: 12 }), kept: fc.integer({ min: 1, max: 12 }) })
      .map(({ n, kept }) => ({ n, kept: Math.min(n, kept) }));
    const resumeId = fc.oneof(
      fc.constant(ZERO_ID),
      fc.integer({ min: 0, max: 14 }).chain((ms) => fc.constantFrom(`${ms}-0`, `${ms}-1`)),
    );
    fc.assert(
      fc.property(ring, resumeId, ({ n, kept }, from) => {
        const issued = Array.from({ length: n }, (_, i) => `${i + 1}-0`);
        const retained = issued.slice(n - kept);
        const lastDropped = n > kept ? issued[n - kept - 1] : undefined;
        const decision = resumeDecision(from, {
          newest: issued[n - 1],
          oldest: retained[0],
          trimmed: false,
          removedThrough: lastDropped,
          holdsFrom: retained.includes(from) || from === lastDropped,
        });
        // The rules, spelled out: every event after `from` is retained, or `from` is too old, or unknown.
        const replays = retained.includes(from) || from === lastDropped || (from === ZERO_ID && !lastDropped);
        const tooOld = lastDropped !== undefined && compareIds(from, lastDropped) < 0;
        expect(decision).toEqual(replays ? replay(from) : tooOld ? RETENTION : UNKNOWN);
      }),
    );
  });
});
