import { assertTag, StrataError } from '@strata/policy';
import type { PurgeMode } from '@strata/policy/protocol';
import type { NewPurgeEvent } from '../bus/types.js';
import { urlTag } from '../cache/key.js';
import type { CdnPurge } from '../cdn/types.js';

/**
 * Checking a purge request and turning it into what travels: no I/O here. Every problem is a
 * StrataError whose message names the field that was wrong.
 */

export interface PurgeRequest {
  tags?: readonly string[];
  /** URLs or paths: every cached variant of each is invalidated. */
  keys?: readonly string[];
  /** A glob (`*`, `?`) over server cache keys (`GET https://shop.example/api/users?page=2`). */
  pattern?: string;
  /** A database table (`users`, `billing.invoices`): purges the tag `table:<schema>.<name>`. */
  table?: string;
  /** For purges of private content: only this partition's browsers are told. */
  partition?: string;
  /**
   * `hard` (the default) drops what the purge names; `soft` marks it stale: each layer serves it
   * for at most its stale-while-revalidate window while one refresh runs. A pattern purge is
   * always hard (its entries are deleted when it is made).
   */
  mode?: PurgeMode;
}

/**
 * A checked request: tags and keys deduplicated, the table resolved into its tag. `cdnKeys`, when
 * set, are the keys the CDNs are told of (a write's own URLs reach them only when configured).
 */
export type NormalizedPurge = Omit<PurgeRequest, 'tags' | 'keys'> & {
  tags: string[];
  keys: string[];
  cdnKeys?: string[];
};

/** The event to publish (the log assigns its id), the tags to bump in the store, and what the CDNs drop. */
export interface PurgeBody {
  event: NewPurgeEvent;
  bumps: string[];
  cdn: CdnPurge & { all: boolean };
}

/** Most tags or keys one purge may name. */
export const MAX_PURGE_ITEMS = 1_000;
const MAX_KEY_CHARS = 2048;
const MAX_PATTERN_CHARS = 1024;
const TABLE = /^(?:([A-Za-z_][A-Za-z0-9_$]*)\.)?([A-Za-z_][A-Za-z0-9_$]*)$/;

/** The tag a table's cached queries carry: unqualified names are in `public`, unquoted names fold to lower case. */
export function tableTag(table: string): string {
  const match = TABLE.exec(table);
  if (!match) throw new StrataError('E_TABLE_INVALID', `table ${JSON.stringify(table)} is not a table name`);
  return `table:${(match[1] ?? 'public').toLowerCase()}.${(match[2] as string).toLowerCase()}`;
}

function list(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new StrataError('E_PURGE_INVALID', `${what} must be a list of strings`);
  }
  if (value.length > MAX_PURGE_ITEMS) {
    throw new StrataError('E_PURGE_INVALID', `at most ${MAX_PURGE_ITEMS} ${what} per purge`);
  }
  return [...new Set(value as string[])];
}

function assertKey(key: string): void {
  if (!(key.startsWith('/') || /^https?:\/\/[^\s]+$/.test(key)) || /\s/.test(key) || key.length > MAX_KEY_CHARS) {
    throw new StrataError('E_URL_INVALID', `purge key ${JSON.stringify(key)} must be a path or an http(s) URL`);
  }
}

/** Checks a purge request and resolves table names; throws a StrataError naming the first problem. */
export function normalizePurge(request: PurgeRequest): NormalizedPurge {
  if (typeof request !== 'object' || request === null)
    throw new StrataError('E_PURGE_INVALID', 'a purge needs an object');
  const tags = list(request.tags, 'tags');
  for (const tag of tags) assertTag(tag);
  const keys = list(request.keys, 'keys');
  for (const key of keys) assertKey(key);
  if (request.table !== undefined) {
    if (typeof request.table !== 'string') throw new StrataError('E_PURGE_INVALID', 'table must be a string');
    tags.push(tableTag(request.table));
  }
  if (
    request.pattern !== undefined &&
    (typeof request.pattern !== 'string' || request.pattern.length === 0 || request.pattern.length > MAX_PATTERN_CHARS)
  ) {
    throw new StrataError('E_GLOB_INVALID', `pattern must be a glob of 1 to ${MAX_PATTERN_CHARS} characters`);
  }
  if (request.partition !== undefined && (typeof request.partition !== 'string' || request.partition.length === 0)) {
    throw new StrataError('E_PURGE_INVALID', 'partition must be a non-empty string');
  }
  if (request.mode !== undefined && request.mode !== 'hard' && request.mode !== 'soft') {
    throw new StrataError('E_PURGE_INVALID', "mode must be 'hard' or 'soft'");
  }
  if (tags.length === 0 && keys.length === 0 && request.pattern === undefined) {
    throw new StrataError('E_PURGE_INVALID', 'a purge needs tags, keys, a pattern or a table');
  }
  return { ...request, tags, keys };
}

/**
 * The body of a purge's event. `patternKeys` are the URLs a pattern matched in the store (the
 * only part that needs I/O, done by the caller). The store bumps each tag and the tag of each
 * key; the CDNs are sent the tags and the absolute URLs (a bare path means nothing to them).
 * A soft request makes a soft event and a soft CDN purge, unless it carries a pattern.
 */
export function purgeBody(request: NormalizedPurge, patternKeys: readonly string[], at: number): PurgeBody {
  const tags = [...new Set(request.tags)];
  const keys = [...new Set([...request.keys, ...patternKeys])];
  const event: NewPurgeEvent = { tags, keys, at };
  if (request.partition !== undefined) event.partition = request.partition;
  if (request.pattern !== undefined) event.pattern = request.pattern;
  // What a pattern matched is already deleted: the whole purge is hard, at every layer alike.
  const soft = request.mode === 'soft' && request.pattern === undefined && patternKeys.length === 0;
  if (soft) event.mode = 'soft';
  return {
    event,
    bumps: [...tags, ...keys.map(urlTag)],
    cdn: {
      tags,
      urls: [...new Set([...(request.cdnKeys ?? request.keys), ...patternKeys])].filter((k) => k.startsWith('http')),
      all: false,
      ...(soft ? { soft } : {}),
    },
  };
}

/** The URL of a server cache key (`GET https://shop.example/a?b #variant`), or undefined for other keys. */
export function keyUrl(key: string): string | undefined {
  return /^(?:GET|HEAD) (https?:\/\/\S+?)(?: #\S+)?$/.exec(key)?.[1];
}
