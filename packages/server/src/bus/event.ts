import { StrataError } from '@strata/policy';
import { EVENT_FORMAT } from '@strata/policy/protocol';
import type { NewPurgeEvent, PurgeEvent } from './types.js';

/**
 * The purge event on the bus's side: the checks before it is written, its form in the log, the
 * frozen object every local subscriber shares, and the resets the bus makes itself.
 */

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Throws `E_EVENT_INVALID` unless `input` is an event a bus may publish. */
export function checkEvent(input: NewPurgeEvent): void {
  if (!isStrings(input.tags) || !isStrings(input.keys))
    throw new StrataError('E_EVENT_INVALID', 'purge event: tags and keys must be string arrays');
  if (typeof input.at !== 'number' || !Number.isFinite(input.at))
    throw new StrataError('E_EVENT_INVALID', 'purge event: at must be a finite number');
  if (input.partition !== undefined && typeof input.partition !== 'string') {
    throw new StrataError('E_EVENT_INVALID', 'purge event: partition must be a string');
  }
  if (input.all !== undefined && typeof input.all !== 'boolean')
    throw new StrataError('E_EVENT_INVALID', 'purge event: all must be a boolean');
  if (input.reason !== undefined && typeof input.reason !== 'string')
    throw new StrataError('E_EVENT_INVALID', 'purge event: reason must be a string');
  if (input.pattern !== undefined && typeof input.pattern !== 'string')
    throw new StrataError('E_EVENT_INVALID', 'purge event: pattern must be a string');
  if (input.entries !== undefined && !isStrings(input.entries))
    throw new StrataError('E_EVENT_INVALID', 'purge event: entries must be a string array');
  if (input.publisher !== undefined && typeof input.publisher !== 'string')
    throw new StrataError('E_EVENT_INVALID', 'purge event: publisher must be a string');
  if (input.mode !== undefined && input.mode !== 'hard' && input.mode !== 'soft')
    throw new StrataError('E_EVENT_INVALID', "purge event: mode must be 'hard' or 'soft'");
}

/** The wire form of an event in the log: everything but its id, in this version's format. */
export function wireOf(input: NewPurgeEvent): Omit<PurgeEvent, 'id'> {
  const { tags, keys, partition, pattern, entries, publisher, all, reason, at, mode } = input;
  const wire: Omit<PurgeEvent, 'id'> = { v: EVENT_FORMAT, tags, keys, at };
  if (partition !== undefined) wire.partition = partition;
  if (pattern !== undefined) wire.pattern = pattern;
  if (entries !== undefined) wire.entries = entries;
  if (publisher !== undefined) wire.publisher = publisher;
  if (all) Object.assign(wire, { all, reason: reason ?? 'clear-all' });
  // Hard is the default and travels as no field: older readers then apply every event as before.
  else if (mode === 'soft') wire.mode = mode;
  return wire;
}

/**
 * The event as the log keeps it: copied, so a publisher that reuses its arrays cannot change the
 * past, and frozen, because every local subscriber receives the same object.
 */
export function frozen(event: PurgeEvent): PurgeEvent {
  const copy = {
    ...event,
    tags: Object.freeze([...event.tags]) as string[],
    keys: Object.freeze([...event.keys]) as string[],
  };
  if (event.entries) copy.entries = Object.freeze([...event.entries]) as string[];
  return Object.freeze(copy);
}

/** A published event with its id: shape checked (tags and keys were validated by whoever built the purge). */
export function eventOf(id: string, input: NewPurgeEvent): PurgeEvent {
  checkEvent(input);
  return frozen({ ...wireOf(input), id });
}

/** Resets the bus makes (not log entries): the subscriber may have missed purges. */
const LOSSES: ReadonlySet<string | undefined> = new Set(['retention', 'unknown', 'log-lost']);

/** A reset the bus makes: drop everything tagged and go on after `id`. */
export function resetEvent(id: string, reason: 'retention' | 'unknown' | 'log-lost'): PurgeEvent {
  return frozen({ v: EVENT_FORMAT, id, tags: [], keys: [], all: true, reason, at: Date.now() });
}

/** Whether the bus made this reset (it is no log entry: its id may go back when a lost log restarts). */
export const isLoss = (event: PurgeEvent): boolean => event.all === true && LOSSES.has(event.reason);
