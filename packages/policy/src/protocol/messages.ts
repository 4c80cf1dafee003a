import type { PurgeEvent } from './event.js';
import type { StatsSnapshot } from './stats.js';

/**
 * The page ↔ worker protocol. The page posts a message with a MessagePort in `ports[0]` (a
 * MessageChannel) and the worker answers on that port. `postMessage` to the controller wakes a
 * stopped worker; a BroadcastChannel would not (HTML §9.5; docs/http-rules.md#pitfalls, item 19).
 *
 * Messages whose `type` does not start with `strata:` belong to the app and are ignored. A
 * `strata:` message that is malformed gets a `strata:error` reply.
 */
export const MSG_PURGE = 'strata:purge';
export const MSG_RESET = 'strata:reset';
export const MSG_SET_USER = 'strata:set-user';
export const MSG_LOGOUT = 'strata:logout';
export const MSG_STATS = 'strata:stats';

/** The `type` of each reply the worker sends (`strata:stats` answers with the same type). */
export const REPLY_PURGED = 'strata:purged';
export const REPLY_USER = 'strata:user';
export const REPLY_LOGGED_OUT = 'strata:logged-out';
export const REPLY_STATS = MSG_STATS;
export const REPLY_ERROR = 'strata:error';

/** The prefix of every Strata message type; other messages belong to the app. */
export const MESSAGE_PREFIX = 'strata:';

export type MessageType = StrataMessage['type'];
export const MESSAGE_TYPES: readonly MessageType[] = [MSG_PURGE, MSG_RESET, MSG_SET_USER, MSG_LOGOUT, MSG_STATS];

/** Most tags and keys in one purge message. */
export const MAX_PURGE_ITEMS = 1000;

export type MessageId = string | number;

/**
 * One purge event for the worker to apply: the page forwards each event of the purge stream as it
 * read it, its `id` the event's, as a `strata:purge`, or as a `strata:reset` when it drops
 * everything tagged (`all`). The worker reads the type, `tags` and `keys`, and ignores the other
 * fields. An app's own purge may give only `tags` and `keys`, its own reset nothing.
 */
export type PurgeMessage = { type: typeof MSG_PURGE; id?: MessageId } & Partial<Omit<PurgeEvent, 'id'>> &
  Pick<PurgeEvent, 'tags' | 'keys'>;
export type ResetMessage = { type: typeof MSG_RESET; id?: MessageId } & Partial<Omit<PurgeEvent, 'id'>>;
export interface SetUserMessage {
  type: typeof MSG_SET_USER;
  id?: MessageId;
  user: string | null;
}
export interface LogoutMessage {
  type: typeof MSG_LOGOUT;
  id?: MessageId;
  /** Default: the current user. */
  user?: string | null;
}
export interface StatsMessage {
  type: typeof MSG_STATS;
  id?: MessageId;
}
export type StrataMessage = PurgeMessage | ResetMessage | SetUserMessage | LogoutMessage | StatsMessage;

export interface PurgedReply {
  type: typeof REPLY_PURGED;
  id?: MessageId;
  evicted: number;
}
export interface UserReply {
  type: typeof REPLY_USER;
  id?: MessageId;
  user: string | null;
}
export interface LoggedOutReply {
  type: typeof REPLY_LOGGED_OUT;
  id?: MessageId;
  user: string | null;
  evicted: number;
}
export type StatsReply = { type: typeof REPLY_STATS; id?: MessageId } & StatsSnapshot;
export interface ErrorReply {
  type: typeof REPLY_ERROR;
  id?: MessageId;
  error: { code: string; message: string };
}
export type StrataReply = PurgedReply | UserReply | LoggedOutReply | StatsReply | ErrorReply;

/** The reply each message gets when it succeeds. */
export interface ReplyTo {
  [MSG_PURGE]: PurgedReply;
  [MSG_RESET]: PurgedReply;
  [MSG_SET_USER]: UserReply;
  [MSG_LOGOUT]: LoggedOutReply;
  [MSG_STATS]: StatsReply;
}
