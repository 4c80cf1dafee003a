import { type StrataError, tagProblem } from '@strata/policy';
import { swError } from './errors.js';
import type { StatsSnapshot } from './stats.js';

/**
 * The page ↔ worker protocol. The page posts a message with a MessagePort in `ports[0]` (a
 * MessageChannel) and the worker answers on that port. `postMessage` to the controller wakes a
 * stopped worker; a BroadcastChannel would not (HTML §9.5; docs/http-rules.md#pitfalls, item 19).
 *
 * Messages whose `type` does not start with `strata:` belong to the app and are ignored. A
 * `strata:` message that is malformed gets a `strata:error` reply; it never throws in the worker.
 */
export type MessageId = string | number;

export interface PurgeMessage {
  type: 'strata:purge';
  id?: MessageId;
  tags: string[];
  /** URLs or paths. A key without a query reaches every query variant of its path. */
  keys: string[];
}
export interface ResetMessage {
  type: 'strata:reset';
  id?: MessageId;
}
export interface SetUserMessage {
  type: 'strata:set-user';
  id?: MessageId;
  user: string | null;
}
export interface LogoutMessage {
  type: 'strata:logout';
  id?: MessageId;
  /** Default: the current user. */
  user?: string | null;
}
export interface StatsMessage {
  type: 'strata:stats';
  id?: MessageId;
}
export type StrataMessage = PurgeMessage | ResetMessage | SetUserMessage | LogoutMessage | StatsMessage;

export type StrataReply =
  | { type: 'strata:purged'; id?: MessageId; evicted: number }
  | { type: 'strata:user'; id?: MessageId; user: string | null }
  | { type: 'strata:logged-out'; id?: MessageId; user: string | null; evicted: number }
  | ({ type: 'strata:stats'; id?: MessageId } & StatsSnapshot)
  | { type: 'strata:error'; id?: MessageId; error: { code: string; message: string } };

/** Most tags and keys in one purge. */
export const MAX_ITEMS = 1000;
const TYPES = ['strata:purge', 'strata:reset', 'strata:set-user', 'strata:logout', 'strata:stats'];

export type Parsed = { message: StrataMessage } | { error: StrataError; id?: MessageId };

const isId = (id: unknown): id is MessageId => typeof id === 'string' || Number.isFinite(id);
const isUser = (user: unknown): boolean => user === null || (typeof user === 'string' && /^.{1,256}$/su.test(user));

/** Why a Strata message is malformed, or undefined when it is well formed. */
function problemOf(data: Record<string, unknown>, base: string): string | undefined {
  const { id, tags = [], keys = [], user, type } = data;
  if (!TYPES.includes(type as string)) return 'unknown message type';
  if (id !== undefined && !isId(id)) return 'id must be a string or a number';
  if (type === 'strata:purge') {
    if (!Array.isArray(tags) || !Array.isArray(keys)) return 'tags and keys must be arrays';
    if (tags.length > MAX_ITEMS || keys.length > MAX_ITEMS) return `at most ${MAX_ITEMS} tags and ${MAX_ITEMS} keys`;
    for (const tag of tags) {
      const problem = tagProblem(tag);
      if (problem) return problem;
    }
    const bad = keys.find((key) => typeof key !== 'string' || key === '' || !URL.canParse(key, base));
    if (bad !== undefined) return `key ${JSON.stringify(bad)} is not a URL or a path`;
  }
  if ((type === 'strata:set-user' || (type === 'strata:logout' && user !== undefined)) && !isUser(user)) {
    return 'user must be null or a string of 1 to 256 characters';
  }
  return undefined;
}

/** Validates a message; undefined when it is not a Strata message at all. `base` resolves paths. */
export function parseMessage(data: unknown, base: string): Parsed | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const record = data as Record<string, unknown>;
  if (typeof record.type !== 'string' || !record.type.startsWith('strata:')) return undefined;
  const problem = problemOf(record, base);
  if (problem === undefined) {
    const message = record.type === 'strata:purge' ? { tags: [], keys: [], ...record } : record;
    return { message: message as unknown as StrataMessage };
  }
  const error = swError('E_MESSAGE_INVALID', `${record.type}: ${problem}`);
  return isId(record.id) ? { error, id: record.id } : { error };
}

/** The reply for an error met while handling a message. */
export function errorReply(error: unknown, id: MessageId | undefined): StrataReply {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    type: 'strata:error',
    ...(id === undefined ? {} : { id }),
    error: {
      code: typeof code === 'string' ? code : 'E_SW_FAILED',
      message: String((error as Error)?.message ?? error),
    },
  };
}
