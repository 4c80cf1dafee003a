import { canonicalUrl, headerDigest, NONE, stamp, storedVary } from './entry.js';
import { type Epochs, entryNames, type Ticket } from './epochs.js';
import { putWithRoom } from './quota.js';
import type { TagIndex } from './tag-index.js';

export interface WriteJob {
  request: Request;
  /** The Cache Storage key (see `cacheKey`). */
  key: Request;
  /** The network response to store (its body is consumed). */
  response: Response;
  cache: string;
  partition: string;
  tags: readonly string[];
  /** The policy's vary. */
  vary: readonly string[];
  /** The request's credential digest for private and credential-varied entries, else `NONE`. */
  credential: string;
  route: string;
  /** Entry lifetime in ms: TTL plus the longer stale window. */
  lifetime: number;
  /** Taken when the fetch started; released by the write. */
  ticket: Ticket;
}

/** `discarded`: a purge landed while the response was in flight. */
export type WriteResult = 'stored' | 'discarded' | 'failed';

export interface WriterDeps {
  caches: CacheStorage;
  index: Pick<TagIndex, 'put'>;
  epochs: Epochs;
  now: () => number;
  /** Evicts the oldest entries of a full cache. */
  makeRoom: (cache: string) => Promise<unknown>;
  /** After each write: expiration by count runs after writes. */
  afterWrite: () => void;
  onError: (error: unknown) => void;
}

/**
 * The write path: Cache Storage, then the tag index, off the critical path (callers hand the
 * promise to `waitUntil`). Writes in flight are tracked, so a purge can wait for them and then
 * find every stored entry in the index.
 */
export class Writer {
  readonly #deps: WriterDeps;
  readonly #pending = new Set<Promise<WriteResult>>();

  constructor(deps: WriterDeps) {
    this.#deps = deps;
  }

  store(job: WriteJob): Promise<WriteResult> {
    const write = this.#write(job).finally(() => {
      job.ticket.end();
      this.#pending.delete(write);
    });
    this.#pending.add(write);
    return write;
  }

  /** Settles when every write started before the call has finished. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#pending);
  }

  async #write({ request, key, response, cache: name, tags, ticket, ...job }: WriteJob): Promise<WriteResult> {
    const { caches, index, epochs, now } = this.#deps;
    const url = canonicalUrl(request.url);
    const path = url.origin + url.pathname;
    const names = entryNames(tags, path, name);
    // Checked before the put and again after it: a purge that landed during the put may have
    // evicted before the entry existed.
    const purged = () => epochs.changed(ticket, names);
    try {
      if (purged()) {
        void response.body?.cancel();
        return 'discarded';
      }
      const storedAt = now();
      const vary = storedVary(response.headers.get('vary'), job.vary);
      const variant = vary.length === 0 ? NONE : await headerDigest(request, vary);
      const meta = { storedAt, partition: job.partition, credential: job.credential, variant, tags };
      const stored = stamp(response, meta, vary);
      const cache = await caches.open(name);
      await putWithRoom(cache, key, stored, () => this.#deps.makeRoom(name));
      if (purged()) {
        await cache.delete(key);
        return 'discarded';
      }
      const keyUrl = key.url.split('#')[0] as string; // Cache Storage keys never hold a fragment
      const record = { id: `${name} ${keyUrl}`, cache: name, key: keyUrl, url: url.href, path, tags: [...tags] };
      await index
        .put({ ...record, route: job.route, storedAt, expiresAt: storedAt + job.lifetime })
        .catch(async (error) => {
          await cache.delete(key); // an entry the index does not know could not be purged: do not keep it
          throw error;
        });
      this.#deps.afterWrite();
      return 'stored';
    } catch (error) {
      this.#deps.onError(error); // the page has its response; a failed write costs a later miss
      return 'failed';
    }
  }
}
