import { describe, expect, it } from 'vitest';
import { Epochs, EVERYTHING_TAGGED, entryNames } from '../src/epochs.js';

describe('Epochs: the purge guard for responses in flight', () => {
  it('reports a bump of one of the names after the ticket was taken', () => {
    const epochs = new Epochs();
    const ticket = epochs.begin();
    expect(epochs.changed(ticket, ['tag:a'])).toBe(false);
    epochs.bump(['tag:b']);
    expect(epochs.changed(ticket, ['tag:a'])).toBe(false);
    epochs.bump(['tag:a']);
    expect(epochs.changed(ticket, ['tag:a', 'tag:z'])).toBe(true);
  });

  it('ignores bumps from before the ticket', () => {
    const epochs = new Epochs();
    const early = epochs.begin();
    epochs.bump(['tag:a']);
    const late = epochs.begin();
    expect(epochs.changed(early, ['tag:a'])).toBe(true);
    expect(epochs.changed(late, ['tag:a'])).toBe(false);
  });

  it('drops every mark once no ticket is open, and stays correct after', () => {
    const epochs = new Epochs();
    const ticket = epochs.begin();
    epochs.bump(['tag:a', 'tag:b']);
    expect(epochs.size).toBe(2);
    ticket.end();
    ticket.end(); // idempotent: must not release another ticket
    expect(epochs.size).toBe(0);
    epochs.bump(['tag:c']); // nothing open: nothing to keep
    expect(epochs.size).toBe(0);
    const next = epochs.begin();
    expect(epochs.changed(next, ['tag:c'])).toBe(false);
  });

  it('an idempotent end does not release a ticket still open', () => {
    const epochs = new Epochs();
    const a = epochs.begin();
    const b = epochs.begin();
    a.end();
    a.end();
    epochs.bump(['tag:x']);
    expect(epochs.changed(b, ['tag:x'])).toBe(true);
  });

  it('names an entry by its tags, its path, its cache, and — when tagged — everything-tagged', () => {
    expect(entryNames(['u:1'], 'https://x/p', 'c')).toEqual([
      'tag:u:1',
      'path:https://x/p',
      'cache:c',
      EVERYTHING_TAGGED,
    ]);
    expect(entryNames([], 'https://x/p', 'c')).toEqual(['path:https://x/p', 'cache:c']);
  });
});
