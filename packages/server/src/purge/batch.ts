import { AsyncLocalStorage } from 'node:async_hooks';
import { type NormalizedPurge, normalizePurge, type PurgeRequest } from './normalize.js';
import type { BatchedPurgeResult, PurgeResult } from './types.js';

/** Sends one checked purge as one event; `patterns` are the globs to expand into keys first. */
export type SendPurge = (request: NormalizedPurge, patterns: readonly string[]) => Promise<PurgeResult>;

/** The purges a running `batch()` collects, and the result of each event it sends, by partition. */
interface Batch {
  requests: NormalizedPurge[];
  sent: Map<string | undefined, Deferred>;
}

interface Deferred {
  promise: Promise<PurgeResult>;
  resolve(result: PurgeResult): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let settle!: Pick<Deferred, 'resolve' | 'reject'>;
  const promise = new Promise<PurgeResult>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Nobody has to await the ids: a failed batch must not become an unhandled rejection.
  promise.catch(() => {});
  return { promise, ...settle };
}

/**
 * Purges merged into one request: tags and keys joined
 * (deduplicated by the check), the globs kept apart, in order; `cdnKeys` joined when one of them
 * keeps keys from the CDN; soft when all of them are.
 */
export function mergeBatch(requests: readonly NormalizedPurge[]): { request: NormalizedPurge; patterns: string[] } {
  const merged: PurgeRequest = {
    tags: requests.flatMap((r) => r.tags),
    keys: requests.flatMap((r) => r.keys),
  };
  // Soft only when every purge asked for it: one hard purge among them needs the whole event hard.
  if (requests.length > 0 && requests.every((r) => r.mode === 'soft')) merged.mode = 'soft';
  // `run` merges one partition's purges at a time; given several, the request names none.
  const partitions = new Set(requests.map((r) => r.partition));
  const only = [...partitions][0];
  if (partitions.size === 1 && only !== undefined) merged.partition = only;
  const patterns = requests.flatMap((r) => (r.pattern === undefined ? [] : [r.pattern]));
  // Each glob was checked when collected; the first one here only tells the check that a batch of
  // pattern purges alone is a purge. The globs travel apart, in `patterns`.
  if (patterns.length > 0) merged.pattern = patterns[0] as string;
  const { pattern: _, ...request } = normalizePurge(merged);
  if (requests.some((r) => r.cdnKeys !== undefined)) {
    request.cdnKeys = [...new Set(requests.flatMap((r) => r.cdnKeys ?? r.keys))];
  }
  return { request, patterns };
}

/**
 * Collects the purges made inside `run()`'s callback (across awaits) and sends them as one event
 * per partition: the purges that name none as one event, and each user's apart, since an event
 * addresses one user's browsers or everyone's, and everyone's never carries private names.
 */
export class BatchCollector {
  readonly #current = new AsyncLocalStorage<Batch>();
  readonly #send: SendPurge;

  constructor(send: SendPurge) {
    this.#send = send;
  }

  /** Adds a checked purge to the running batch; undefined when no batch is running. */
  collect(request: NormalizedPurge): BatchedPurgeResult | undefined {
    const batch = this.#current.getStore();
    if (!batch) return undefined;
    batch.requests.push(request);
    let sent = batch.sent.get(request.partition);
    if (!sent) {
      sent = deferred();
      batch.sent.set(request.partition, sent);
    }
    const id = sent.promise.then((result) => result.id);
    id.catch(() => {});
    return { batched: true, id, queued: true, tags: request.tags, keys: request.keys };
  }

  /** Runs `fn`; then sends what it collected. `purge` is the event of the purges naming no partition, else the first. */
  async run<T>(fn: () => Promise<T>): Promise<{ result: T; purge: PurgeResult | undefined }> {
    const batch: Batch = { requests: [], sent: new Map() };
    let purge: PurgeResult | undefined;
    try {
      const result = await this.#current.run(batch, fn);
      for (const [partition, sent] of batch.sent) {
        const { request, patterns } = mergeBatch(batch.requests.filter((r) => r.partition === partition));
        const event = await this.#send(request, patterns);
        sent.resolve(event);
        if (purge === undefined || partition === undefined) purge = event;
      }
      return { result, purge };
    } catch (error) {
      for (const sent of batch.sent.values()) sent.reject(error);
      throw error;
    }
  }
}
