import { randomUUID } from 'node:crypto';
import type { Bus, PurgeEvent, Subscription } from './bus/types.js';
import { urlTag } from './cache/key.js';
import type { ReportingPurger } from './cdn/retry.js';
import type { PurgerReport } from './cdn/types.js';
import { BatchCollector } from './purge/batch.js';
import { CdnFanout } from './purge/cdn-fanout.js';
import {
  keyUrl,
  type NormalizedPurge,
  normalizePurge,
  type PurgeBody,
  type PurgeRequest,
  purgeBody,
} from './purge/normalize.js';
import { Outbox } from './purge/outbox.js';
import type { BatchedPurgeResult, PurgeResult } from './purge/types.js';
import type { ResilientStore } from './store/resilient.js';

export { type PurgeRequest, tableTag } from './purge/normalize.js';
export type { BatchedPurgeResult, PurgeResult } from './purge/types.js';

/** Most server keys one pattern purge deletes. */
const MAX_PATTERN_KEYS = 10_000;

export interface PurgeChannelOptions {
  store: ResilientStore;
  bus: Bus;
  purgers: ReportingPurger[];
  now: () => number;
  track: (work: Promise<unknown>) => void;
  /** Called for every event (a purge or a reset) this instance receives from the log, its own included. */
  onEvent?: (event: PurgeEvent) => void;
}

/**
 * Invalidation at every level: tag bumps in the store (the server cache is invalid at once), one
 * event in the durable log for every other instance and every browser, and the CDN purgers.
 * A purge is checked and turned into its event by `purge/normalize.ts`, collected by a running
 * `batch()` in `purge/batch.ts`, sent to the CDNs by `purge/cdn-fanout.ts`, and delivered to the
 * store and the log through the ordered outbox of `purge/outbox.ts`: while either is unreachable
 * the purge waits there, and reads of what it names bypass the server cache so nothing purged is
 * served.
 */
export class PurgeChannel {
  readonly #o: PurgeChannelOptions;
  readonly #outbox: Outbox;
  readonly #cdn: CdnFanout;
  readonly #batch: BatchCollector;
  #subscription: Subscription | undefined;
  /** The `publisher` of this instance's events, so it knows them when the log brings them back. */
  readonly #publisher = randomUUID();
  /** Purges sent (a batch counts once). */
  purges = 0;

  constructor(options: PurgeChannelOptions) {
    this.#o = options;
    this.#outbox = new Outbox(
      {
        bump: (tags, softAt) => softBump(options.store, tags, softAt),
        clear: () => options.store.clear(),
        publish: (event) => options.bus.publish({ ...event, publisher: this.#publisher }),
      },
      { now: options.now },
    );
    this.#cdn = new CdnFanout(options.purgers, options.track);
    this.#batch = new BatchCollector((request, patterns) => this.#send(request, patterns));
  }

  /** The latest CDN purge reports, oldest first, at most 100. */
  get reports(): PurgerReport[] {
    return this.#cdn.reports;
  }

  get outboxSize(): number {
    return this.#outbox.size;
  }

  /**
   * Whether a read under `tags` (of an entry stored at `storedAt`, once known) must bypass the
   * store: a purge waiting for it names the entry, or may name any, or the entry is newer than
   * the failure (see `Outbox.distrusts`). Reads of everything else keep their cache.
   */
  distrusts(tags: readonly string[], storedAt?: number): boolean {
    return this.#outbox.distrusts(tags, storedAt);
  }

  /**
   * Listens to the log: other instances' purges reach an in-process store, resets clear it. This
   * instance's own events are left out there: the outbox did their store work before publishing
   * them, and doing it again when the log brings them back would invalidate what was stored since.
   */
  start(): void {
    // An in-process store follows the whole retained log from its start: "from now" is only fixed
    // once the log answers, and a purge made by another instance in that gap would be missed.
    // Replaying old purges onto a young store costs a few counter bumps and misses nothing.
    const from = this.#o.store.shared ? undefined : '0-0';
    this.#subscription ??= this.#o.bus.subscribe(from, (event) => {
      if (!this.#o.store.shared && event.publisher !== this.#publisher) {
        const tags = [...event.tags, ...event.keys.map(urlTag)];
        const work = event.all
          ? this.#o.store.clear()
          : softBump(this.#o.store, tags, event.mode === 'soft' ? event.at : undefined);
        this.#o.track(work.catch(() => {}));
        if (event.entries && !event.all) this.#o.track(this.#o.store.delete(event.entries).catch(() => {}));
      }
      this.#o.onEvent?.(event);
    });
  }

  /** Purges inside `fn` are collected and sent as one event, tags deduplicated. */
  batch<T>(fn: () => Promise<T>): Promise<{ result: T; purge: PurgeResult | undefined }> {
    return this.#batch.run(fn);
  }

  /** A purge, collected by the running `batch()` if there is one. */
  async purge(request: PurgeRequest): Promise<PurgeResult | BatchedPurgeResult> {
    const normalized = normalizePurge(request);
    return this.#batch.collect(normalized) ?? this.#send(normalized, patternsOf(normalized));
  }

  /** A purge sent now, as its own event, whether or not a batch is running. */
  async send(request: PurgeRequest): Promise<PurgeResult> {
    const normalized = normalizePurge(request);
    return this.#send(normalized, patternsOf(normalized));
  }

  /**
   * RFC 9111 §4.4: a successful unsafe request invalidates its target URIs. One purge event of
   * those keys, like `purge({ keys })`: the store, every instance and every browser drop them;
   * the CDNs are told only when `cdn` is set (providers rate-limit purges).
   */
  invalidateWrite(urls: readonly string[], cdn: boolean): Promise<PurgeResult> {
    const body = purgeBody({ tags: [], keys: [...urls] }, [], this.#o.now());
    if (cdn) this.#cdn.send(body.cdn);
    return this.#deliver(body.bumps, body.event);
  }

  /**
   * An unsafe request whose route has write rules, as one event: the purges made while `run` runs
   * (the query cache's, the handler's own) are collected as in `batch()`, and once it has answered,
   * `after` adds what the write invalidates. The written URLs reach the CDNs only when `cdnKeys`
   * is set; the tags always do. Collected purges are sent even when `run` throws: the data they
   * describe may already have changed.
   */
  async write<T>(
    run: () => Promise<T>,
    after: (result: T) => { tags: string[]; keys: string[] } | undefined,
    cdnKeys: boolean,
  ): Promise<T> {
    const { result: outcome } = await this.#batch.run(async () => {
      try {
        const result = await run();
        const invalidated = after(result);
        if (invalidated && invalidated.tags.length + invalidated.keys.length > 0) {
          this.#batch.collect({ ...invalidated, ...(cdnKeys ? {} : { cdnKeys: [] }) });
        }
        return { result };
      } catch (error) {
        return { error };
      }
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }

  /**
   * Removes entries by server key: from the store now, and from every instance's own copies (an
   * L1, an in-process store) through one event in the log, which names them in `entries` and
   * nothing else. Browsers and CDNs are not told: the entries are the server cache's. Resolves to
   * how many the store held.
   */
  async remove(keys: string[]): Promise<number> {
    const removed = await this.#o.store.delete(keys);
    await this.#outbox.deliver(undefined, { tags: [], keys: [], entries: keys, at: this.#o.now() });
    return removed;
  }

  async clearAll(): Promise<PurgeResult> {
    const event = { tags: [], keys: [], all: true, reason: 'clear-all', at: this.#o.now() };
    this.#cdn.send({ tags: [], urls: [], all: true });
    // A clear the store refused waits in the outbox, and until it is done no entry is served.
    return this.#delivered(await this.#outbox.deliver(undefined, event, { clear: true }), event);
  }

  /** Sends what waits in the outbox, in order; stops at the first failure and retries with backoff. */
  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  close(): void {
    this.#subscription?.close();
    this.#subscription = undefined;
    this.#outbox.close();
  }

  async #send(request: NormalizedPurge, patterns: readonly string[]): Promise<PurgeResult> {
    const patternKeys: string[] = [];
    for (const pattern of patterns) patternKeys.push(...(await this.#expandPattern(pattern)));
    const body = purgeBody(request, patternKeys, this.#o.now());
    this.#cdn.send(body.cdn);
    return this.#deliver(body.bumps, body.event, patterns.length > 0);
  }

  /** Server keys matching a glob: deleted now, and their URLs purged at the other levels. */
  async #expandPattern(pattern: string): Promise<string[]> {
    const keys = await this.#o.store.keys(pattern, MAX_PATTERN_KEYS);
    await this.#o.store.delete(keys);
    return keys.flatMap((key) => keyUrl(key) ?? []);
  }

  /** One purge counted, then handed to the outbox; `everything`: it came from a pattern. */
  async #deliver(bumps: string[], event: PurgeBody['event'], everything = false): Promise<PurgeResult> {
    this.purges++;
    return this.#delivered(await this.#outbox.deliver(bumps, event, { everything }), event);
  }

  #delivered(delivery: { id: string; queued: boolean }, event: PurgeBody['event']): PurgeResult {
    return { ...delivery, tags: event.tags, keys: event.keys };
  }
}

/** A soft bump where the purge is soft and the store keeps soft marks; a hard bump otherwise. */
function softBump(store: ResilientStore, tags: string[], softAt: number | undefined): Promise<unknown> {
  return softAt !== undefined && store.softBump ? store.softBump(tags, softAt) : store.bump(tags);
}

function patternsOf(request: NormalizedPurge): string[] {
  return request.pattern === undefined ? [] : [request.pattern];
}
