import { describe, expect, it } from 'vitest';
import { formatBytes, formatMs, formatPercent } from '../src/format.js';

describe('formatBytes', () => {
  it('uses binary units with at most one decimal', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MiB');
    expect(formatBytes(200.4 * 1024)).toBe('200 KiB');
  });
});

describe('formatPercent', () => {
  it('rounds to one decimal', () => {
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(0.8734)).toBe('87.3%');
    expect(formatPercent(1)).toBe('100.0%');
  });
});

describe('formatMs', () => {
  it('switches to seconds from ten seconds on', () => {
    expect(formatMs(3.4)).toBe('3 ms');
    expect(formatMs(12_345)).toBe('12.3 s');
  });
});
