import { AsyncLocalStorage } from 'node:async_hooks';
import { assertTag, StrataError } from '@strata/policy';
import type { Bus, BusMessage, PurgeEvent, Subscription } from './bus/types.js';
import { urlTag } from './cache/key.js';
import { purgeAll, type ReportingPurger } from './cdn/retry.js';
import type { PurgerReport } from './cdn/types.js';
import type { ResilientStore } from './store/resilient.js';

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
}

export interface PurgeResult {
  /** The purge's id in the log; `queued:<n>` while the log is unreachable. */
  id: string;
  /** True when the purge waits in the outbox for the store or the log to come back. */
  queued: boolean;
  tags: string[];
  keys: string[];
}

/**
 * What `purge()` resolves to inside `batch()`, at once: the batch's one event is only sent when
 * the callback has returned. `id` resolves to that event's id then (`queued:<n>` when the log is
 * unreachable), and rejects when the batch fails. Await `id` after `batch()`, not inside its
 * callback: there it would wait for the callback, which waits for it.
 */
export interface BatchedPurgeResult {
  batched: true;
  id: Promise<string>;
  queued: true;
  tags: string[];
  keys: string[];
}

/** The purges a running `batch()` collects, and the result of the event it sends. */
interface Batch {
  requests: PurgeRequest[];
  sent: Promise<PurgeResult>;
}

const LIMIT = 1_000;
const TABLE = /^(?:([A-Za-z_][A-Za-z0-9_$]*)\.)?([A-Za-z_][A-Za-z0-9_$]*)$/;
const MAX_OUTBOX = 10_000;

/** The tag a table's cached queries carry: unqualified names are in `public`, unquoted names fold to lower case. */
export function tableTag(table: string): string {
  const match = TABLE.exec(table);
  if (!match) throw new StrataError('E_KEY_INVALID', `table ${JSON.stringify(table)} is not a table name`);
  return `table:${(match[1] ?? 'public').toLowerCase()}.${(match[2] as string).toLowerCase()}`;
}

function list(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new StrataError('E_KEY_INVALID', `${what} must be a list of strings`);
  }
  if (value.length > LIMIT) throw new StrataError('E_KEY_INVALID', `at most ${LIMIT} ${what} per purge`);
  return [...new Set(value as string[])];
}

/** Checks a purge request and resolves table names; throws a StrataError naming the first problem. */
export function normalizePurge(
  request: PurgeRequest,
): Omit<PurgeRequest, 'tags' | 'keys'> & { tags: string[]; keys: string[] } {
  if (typeof request !== 'object' || request === null)
    throw new StrataError('E_KEY_INVALID', 'a purge needs an object');
  const tags = list(request.tags, 'tags');
  for (const tag of tags) assertTag(tag);
  const keys = list(request.keys, 'keys');
  for (const key of keys) {
    if (!(key.startsWith('/') || /^https?:\/\/[^\s]+$/.test(key)) || /\s/.test(key) || key.length > 2048) {
      throw new StrataError('E_KEY_INVALID', `purge key ${JSON.stringify(key)} must be a path or an http(s) URL`);
    }
  }
  if (request.table !== undefined) {
    if (typeof request.table !== 'string') throw new StrataError('E_KEY_INVALID', 'table must be a string');
    tags.push(tableTag(request.table));
  }
  if (
    request.pattern !== undefined &&
    (typeof request.pattern !== 'string' || request.pattern.length === 0 || request.pattern.length > 1024)
  ) {
    throw new StrataError('E_KEY_INVALID', 'pattern must be a glob of 1 to 1024 characters');
  }
  if (request.partition !== undefined && (typeof request.partition !== 'string' || request.partition.length === 0)) {
    throw new StrataError('E_KEY_INVALID', 'partition must be a non-empty string');
  }
  if (tags.length === 0 && keys.length === 0 && request.pattern === undefined) {
    throw new StrataError('E_KEY_INVALID', 'a purge needs tags, keys, a pattern or a table');
  }
  return { ...request, tags, keys };
}

/** A purge waiting for the store (its tag bumps) and/or the log (its event). */
interface Pending {
  bumps: string[] | undefined;
  event: Omit<PurgeEvent, 'id'>;
  placeholder: string;
}

export interface PurgeChannelOptions {
  store: ResilientStore;
  bus: Bus;
  purgers: ReportingPurger[];
  now: () => number;
  track: (work: Promise<unknown>) => void;
  /** Called for every purge or reset this instance receives from the log (its own included). */
  onMessage?: (message: BusMessage) => void;
}

/**
 * Invalidation at every level: tag bumps in the store (the server cache is invalid at once), one
 * event in the durable log for every other instance and every browser, and the CDN purgers.
 * When the store or the log is unreachable the purge waits in an ordered outbox, flushed when
 * they return, and reads of the server cache bypass it meanwhile so nothing purged is served.
 */
export class PurgeChannel {
  readonly #o: PurgeChannelOptions;
  readonly #outbox: Pending[] = [];
  readonly #batch = new AsyncLocalStorage<Batch>();
  readonly reports: PurgerReport[] = [];
  #subscription: Subscription | undefined;
  #flushing: Promise<void> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryDelay = 100;
  #queued = 0;
  purges = 0;

  constructor(options: PurgeChannelOptions) {
    this.#o = options;
  }

  get outboxSize(): number {
    return this.#outbox.length;
  }

  /** True while some tag bumps could not reach the store: server cache reads must not be trusted. */
  get storeBehind(): boolean {
    return this.#outbox.some((pending) => pending.bumps !== undefined);
  }

  /** Listens to the log: remote purges reach an in-process store, resets clear it. */
  start(): void {
    // An in-process store follows the whole retained log from its start: "from now" is only fixed
    // once the log answers, and a purge made by another instance in that gap would be missed.
    // Replaying old purges onto a young store costs a few counter bumps and misses nothing.
    const from = this.#o.store.shared ? undefined : '0-0';
    this.#subscription ??= this.#o.bus.subscribe(from, (message) => {
      if (!this.#o.store.shared) {
        const work =
          message.type === 'reset' || message.event.all
            ? this.#o.store.clear()
            : this.#o.store.bump([...message.event.tags, ...message.event.keys.map(urlTag)]);
        this.#o.track(work.catch(() => {}));
      }
      this.#o.onMessage?.(message);
    });
  }

  /** Purges inside `fn` are collected and sent as one event, tags deduplicated. */
  async batch<T>(fn: () => Promise<T>): Promise<{ result: T; purge: PurgeResult | undefined }> {
    let settle!: { resolve(result: PurgeResult): void; reject(error: unknown): void };
    const sent = new Promise<PurgeResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Nobody has to await the ids: a failed batch must not become an unhandled rejection.
    sent.catch(() => {});
    const batch: Batch = { requests: [], sent };
    try {
      const result = await this.#batch.run(batch, fn);
      const collected = batch.requests;
      if (collected.length === 0) return { result, purge: undefined };
      const partitions = new Set(collected.map((r) => r.partition));
      const merged: PurgeRequest = {
        tags: collected.flatMap((r) => [...(r.tags ?? [])]),
        keys: collected.flatMap((r) => [...(r.keys ?? [])]),
      };
      // One event can name one partition; a mixed batch is addressed to everyone's browsers.
      if (partitions.size === 1 && [...partitions][0] !== undefined) merged.partition = [...partitions][0] as string;
      const purge = await this.#send(normalizePurge(merged), collected);
      settle.resolve(purge);
      return { result, purge };
    } catch (error) {
      settle.reject(error);
      throw error;
    }
  }

  /** A purge, collected by the running `batch()` if there is one. */
  async purge(request: PurgeRequest): Promise<PurgeResult | BatchedPurgeResult> {
    const batch = this.#batch.getStore();
    if (!batch) return this.send(request);
    const normalized = normalizePurge(request);
    batch.requests.push(normalized);
    const id = batch.sent.then((sent) => sent.id);
    id.catch(() => {});
    return { batched: true, id, queued: true, tags: normalized.tags, keys: normalized.keys };
  }

  /** A purge sent now, as its own event, whether or not a batch is running. */
  async send(request: PurgeRequest): Promise<PurgeResult> {
    const normalized = normalizePurge(request);
    return this.#send(normalized, [normalized]);
  }

  /**
   * RFC 9111 §4.4: a successful unsafe request invalidates its target URIs. One purge event of
   * those keys, like `purge({ keys })`: the store, every instance and every browser drop them;
   * the CDNs are told only when `cdn` is set (providers rate-limit purges).
   */
  invalidateWrite(urls: readonly string[], cdn: boolean): Promise<PurgeResult> {
    const keys = [...new Set(urls)];
    if (cdn) this.#cdn({ tags: [], urls: keys, all: false });
    this.purges++;
    return this.#deliver(keys.map(urlTag), { tags: [], keys, at: this.#o.now() });
  }

  async clearAll(): Promise<PurgeResult> {
    const event = { tags: [], keys: [], all: true, at: this.#o.now() };
    this.#cdn({ tags: [], urls: [], all: true });
    try {
      await this.#o.store.clear();
    } catch {
      // the outbox keeps the event; the store's entries will be misses once the log resets readers
    }
    return this.#deliver(undefined, event);
  }

  async #send(request: ReturnType<typeof normalizePurge>, parts: PurgeRequest[]): Promise<PurgeResult> {
    const keys = [...request.keys];
    const patterns = parts.map((p) => p.pattern).filter((p): p is string => p !== undefined);
    for (const pattern of patterns) keys.push(...(await this.#expandPattern(pattern)));
    const tags = [...new Set(request.tags)];
    const uniqueKeys = [...new Set(keys)];
    const event: Omit<PurgeEvent, 'id'> = { tags, keys: uniqueKeys, at: this.#o.now() };
    if (request.partition !== undefined) event.partition = request.partition;
    this.#cdn({ tags, urls: uniqueKeys.filter((k) => k.startsWith('http')), all: false });
    this.purges++;
    return this.#deliver([...tags, ...uniqueKeys.map(urlTag)], event);
  }

  /** Server keys matching a glob: deleted now, and their URLs purged at the other levels. */
  async #expandPattern(pattern: string): Promise<string[]> {
    const keys = await this.#o.store.keys(pattern, 10_000);
    await this.#o.store.delete(keys);
    return keys.flatMap((key) => {
      const url = /^(?:GET|HEAD) (https?:\/\/\S+?)(?: #\S+)?$/.exec(key)?.[1];
      return url ? [url] : [];
    });
  }

  #cdn(request: { tags: string[]; urls: string[]; all: boolean }): void {
    if (this.#o.purgers.length === 0 || (request.tags.length === 0 && request.urls.length === 0 && !request.all))
      return;
    const work = purgeAll(this.#o.purgers, request).then((reports: PurgerReport[]) => {
      this.reports.push(...reports);
      if (this.reports.length > 100) this.reports.splice(0, this.reports.length - 100);
    });
    this.#o.track(work);
  }

  async #deliver(bumps: string[] | undefined, event: Omit<PurgeEvent, 'id'>): Promise<PurgeResult> {
    const result = { tags: event.tags, keys: event.keys };
    // Order matters: nothing overtakes a purge already waiting.
    if (this.#outbox.length === 0) {
      let bumped = bumps === undefined || bumps.length === 0;
      try {
        if (!bumped) await this.#o.store.bump(bumps as string[]);
        bumped = true;
        const id = await this.#o.bus.publish(event);
        return { id, queued: false, ...result };
      } catch {
        return { id: this.#enqueue(bumped ? undefined : bumps, event), queued: true, ...result };
      }
    }
    const id = this.#enqueue(bumps, event);
    void this.flush();
    return { id, queued: true, ...result };
  }

  #enqueue(bumps: string[] | undefined, event: Omit<PurgeEvent, 'id'>): string {
    const placeholder = `queued:${++this.#queued}`;
    if (this.#outbox.length >= MAX_OUTBOX) {
      // Too much to replay one by one: one event that makes every reader drop everything tagged.
      const dropped = this.#outbox.splice(0);
      const allBumps = dropped.flatMap((p) => p.bumps ?? []);
      this.#outbox.push({
        bumps: [...new Set(allBumps)],
        event: { tags: [], keys: [], all: true, at: event.at },
        placeholder,
      });
    }
    this.#outbox.push({ bumps: bumps && bumps.length > 0 ? bumps : undefined, event, placeholder });
    this.#scheduleRetry();
    return placeholder;
  }

  #scheduleRetry(): void {
    if (this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.flush();
    }, this.#retryDelay);
    this.#retryTimer.unref?.();
  }

  /** Sends what waits in the outbox, in order; stops at the first failure and retries with backoff. */
  flush(): Promise<void> {
    this.#flushing ??= (async () => {
      try {
        while (this.#outbox.length > 0) {
          const next = this.#outbox[0] as Pending;
          if (next.bumps) {
            await this.#o.store.bump(next.bumps);
            next.bumps = undefined;
          }
          await this.#o.bus.publish(next.event);
          this.#outbox.shift();
        }
        this.#retryDelay = 100;
      } catch {
        this.#retryDelay = Math.min(this.#retryDelay * 2, 5_000);
        this.#scheduleRetry();
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  close(): void {
    this.#subscription?.close();
    this.#subscription = undefined;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}
