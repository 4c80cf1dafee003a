import { type StrataError, tagProblem } from '@strata/policy';
import {
  MAX_PURGE_ITEMS,
  MESSAGE_PREFIX,
  MESSAGE_TYPES,
  type MessageId,
  MSG_LOGOUT,
  MSG_PURGE,
  MSG_SET_USER,
  REPLY_ERROR,
  type StrataMessage,
  type StrataReply,
} from '@strata/policy/protocol';
import { swError } from './errors.js';

/**
 * Validation of the page ↔ worker messages defined in @strata/policy/protocol. A malformed
 * `strata:` message gets a `strata:error` reply; it never throws in the worker.
 */
/** Most tags and keys in one purge. */
export const MAX_ITEMS = MAX_PURGE_ITEMS;

export type Parsed = { message: StrataMessage } | { error: StrataError; id?: MessageId };

const isId = (id: unknown): id is MessageId => typeof id === 'string' || Number.isFinite(id);
const isUser = (user: unknown): boolean => user === null || (typeof user === 'string' && /^.{1,256}$/su.test(user));

/** Why a Strata message is malformed, or undefined when it is well formed. */
function problemOf(data: Record<string, unknown>, base: string): string | undefined {
  const { id, tags = [], keys = [], user, type } = data;
  if (!(MESSAGE_TYPES as readonly unknown[]).includes(type)) return 'unknown message type';
  if (id !== undefined && !isId(id)) return 'id must be a string or a number';
  if (type === MSG_PURGE) {
    if (!Array.isArray(tags) || !Array.isArray(keys)) return 'tags and keys must be arrays';
    if (tags.length > MAX_ITEMS || keys.length > MAX_ITEMS) return `at most ${MAX_ITEMS} tags and ${MAX_ITEMS} keys`;
    for (const tag of tags) {
      const problem = tagProblem(tag);
      if (problem) return problem;
    }
    const bad = keys.find((key) => typeof key !== 'string' || key === '' || !URL.canParse(key, base));
    if (bad !== undefined) return `key ${JSON.stringify(bad)} is not a URL or a path`;
  }
  if ((type === MSG_SET_USER || (type === MSG_LOGOUT && user !== undefined)) && !isUser(user)) {
    return 'user must be null or a string of 1 to 256 characters';
  }
  return undefined;
}

/** Validates a message; undefined when it is not a Strata message at all. `base` resolves paths. */
export function parseMessage(data: unknown, base: string): Parsed | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as Record<string, unknown>;
  if (typeof record.type !== 'string' || !record.type.startsWith(MESSAGE_PREFIX)) return undefined;
  const problem = problemOf(record, base);
  if (problem === undefined) {
    const message = record.type === MSG_PURGE ? { tags: [], keys: [], ...record } : record;
    return { message: message as unknown as StrataMessage };
  }
  const error = swError('E_MESSAGE_INVALID', `${record.type}: ${problem}`);
  return isId(record.id) ? { error, id: record.id } : { error };
}

/** The reply for an error met while handling a message. */
export function errorReply(error: unknown, id: MessageId | undefined): StrataReply {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    type: REPLY_ERROR,
    ...(id === undefined ? {} : { id }),
    error: {
      code: typeof code === 'string' ? code : 'E_SW_FAILED',
      message: String((error as Error)?.message ?? error),
    },
  };
}
