import { EVENT_FORMAT } from '@strata/policy/protocol';
import { expect } from 'vitest';

/** The data of a purge's SSE event: the event in this version's format, without its id. */
export const purgeData = (tags: string[], keys: string[] = []) => ({
  v: EVENT_FORMAT,
  tags,
  keys,
  at: expect.any(Number),
});
