import { StrataError } from '@strata/policy';
import { createStrata, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { manifest } from './origin.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof StrataError ? `${error.code}: ${error.message}` : String(error);
  }
  return undefined;
};

describe('limits given as options are checked when the instance is created', () => {
  it('refuses non-positive or non-numeric limits with E_CONFIG_INVALID, naming the option', () => {
    expect(code(() => createStrata({ manifest, originTimeoutMs: 0 }))).toMatch(/^E_CONFIG_INVALID: originTimeoutMs/);
    expect(code(() => createStrata({ manifest, originTimeoutMs: Number.NaN }))).toMatch(/originTimeoutMs/);
    expect(code(() => createStrata({ manifest, events: { maxConnections: -1 } }))).toMatch(
      /^E_CONFIG_INVALID: events.maxConnections/,
    );
    expect(code(() => createStrata({ manifest, events: { maxBufferedBytes: 1.5 } }))).toMatch(
      /events.maxBufferedBytes must be a positive whole number/,
    );
    expect(code(() => memoryStore({ scanStepsPerTurn: 0 }))).toMatch(/^E_CONFIG_INVALID: scanStepsPerTurn/);
    // Checked even where no L1 is built (a memory store has none).
    expect(code(() => createStrata({ manifest, l1: { maxEntries: 0 } }))).toMatch(/^E_CONFIG_INVALID: l1.maxEntries/);
  });

  it('takes valid ones, and Infinity as "no origin timeout"', async () => {
    const strata = createStrata({
      manifest,
      originTimeoutMs: Number.POSITIVE_INFINITY,
      events: { maxConnections: 5, maxBufferedBytes: 1024 },
    });
    await strata.close();
  });
});
