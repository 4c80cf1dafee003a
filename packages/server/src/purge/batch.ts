import { AsyncLocalStorage } from 'node:async_hooks';
import { type NormalizedPurge, normalizePurge, type PurgeRequest } from './normalize.js';
import type { BatchedPurgeResult, PurgeResult } from './types.js';

/** Sends one checked purge as one event; `patterns` are the globs to expand into keys first. */
export type SendPurge = (request: NormalizedPurge, patterns: readonly string[]) => Promise<PurgeResult>;

/** The purges a running `batch()` collects, and the result of the event it sends. */
interface Batch {
  requests: NormalizedPurge[];
  sent: Promise<PurgeResult>;
}

/**
 * The batch's purges merged into one request: tags and keys joined (deduplicated by the check),
 * the globs kept apart, in order. One event can name one partition; a mixed batch is addressed to
 * everyone's browsers.
 */
export function mergeBatch(requests: readonly NormalizedPurge[]): { request: NormalizedPurge; patterns: string[] } {
  const partitions = new Set(requests.map((r) => r.partition));
  const merged: PurgeRequest = {
    tags: requests.flatMap((r) => r.tags),
    keys: requests.flatMap((r) => r.keys),
  };
  const only = [...partitions][0];
  if (partitions.size === 1 && only !== undefined) merged.partition = only;
  const patterns = requests.flatMap((r) => (r.pattern === undefined ? [] : [r.pattern]));
  // Each glob was checked when collected; the first one here only tells the check that a batch of
  // pattern purges alone is a purge. The globs travel apart, in `patterns`.
  if (patterns.length > 0) merged.pattern = patterns[0] as string;
  const { pattern: _, ...request } = normalizePurge(merged);
  return { request, patterns };
}

/** Collects the purges made inside `run()`'s callback (across awaits) and sends them as one event. */
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
    const id = batch.sent.then((sent) => sent.id);
    id.catch(() => {});
    return { batched: true, id, queued: true, tags: request.tags, keys: request.keys };
  }

  async run<T>(fn: () => Promise<T>): Promise<{ result: T; purge: PurgeResult | undefined }> {
    let settle!: { resolve(result: PurgeResult): void; reject(error: unknown): void };
    const sent = new Promise<PurgeResult>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Nobody has to await the ids: a failed batch must not become an unhandled rejection.
    sent.catch(() => {});
    const batch: Batch = { requests: [], sent };
    try {
      const result = await this.#current.run(batch, fn);
      if (batch.requests.length === 0) return { result, purge: undefined };
      const { request, patterns } = mergeBatch(batch.requests);
      const purge = await this.#send(request, patterns);
      settle.resolve(purge);
      return { result, purge };
    } catch (error) {
      settle.reject(error);
      throw error;
    }
  }
}
