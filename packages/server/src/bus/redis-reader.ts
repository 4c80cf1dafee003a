import { reconnectDelay as retryDelay } from '../redis/connection.js';
import { resetEvent } from './event.js';
import type { FanOut, Subscriber } from './fanout.js';
import { compareIds, isValidId, maxId, ZERO_ID } from './ids.js';
import { abortable, type Connection, delay, whenReady } from './redis-connection.js';
import { classify, decode, endOf, entriesOf, type Snapshot, snapshot, streamOf } from './redis-stream.js';

const READ_COUNT = 500;
const PAGE = 500;

export interface StreamReaderOptions {
  stream: string;
  /** Events the stream keeps at least (`MAXLEN ~`): a smaller batch cannot have been overtaken by trimming. */
  retain: number;
  blockMs: number;
  /** The command connection (shared with publish); its first attempt has been made when it resolves. */
  connection: () => Promise<Connection>;
  fanout: FanOut;
  /** Aborted when the bus closes: every loop here ends. */
  signal: AbortSignal;
}

/**
 * The one reader of a Redis bus instance: a blocking `XREAD` on a connection of its own, fanning
 * events out to local subscribers in order, and the catch-up (`replay`) of subscribers that
 * resume from an id. It also keeps what `stats()` reports about the stream.
 *
 * After every (re)connection it checks its position against the stream before reading on: if the
 * stream no longer holds it, every subscriber gets one `reset` (a new `epoch`) and the reader
 * continues from the stream's end.
 */
export class StreamReader {
  /** Where the reader is: the last id it fanned out, or where it started. Set once it has started. */
  #cursor: string | undefined;
  /** Counts the log incarnations this reader has seen (resets it announced). */
  #epoch = 0;
  /** The newest id this instance knows of (published, read or replayed). */
  #lastKnown: string | undefined;
  /** The stream's length, as last seen. */
  #retained = 0;
  /** ms between the newest event's publication and its delivery here; 0 when caught up. */
  #lagMs = 0;
  /** The reader's own connection (blocking reads), once it has started. */
  #connection: Connection | undefined;
  #loop: Promise<void> | undefined;
  #markStarted = () => {};
  /** Resolves once the reader has its starting position. */
  readonly #started = new Promise<void>((resolve) => {
    this.#markStarted = resolve;
  });

  readonly #options: StreamReaderOptions;

  constructor(options: StreamReaderOptions) {
    this.#options = options;
  }

  /** The reader's position, once it has started. */
  get cursor(): string | undefined {
    return this.#cursor;
  }

  stats(): { lastId: string | undefined; retained: number; lagMs: number; readerReady: boolean } {
    return {
      lastId: this.#lastKnown,
      retained: this.#retained,
      lagMs: this.#lagMs,
      readerReady: this.#connection === undefined || this.#connection.isReady,
    };
  }

  /** The id a publish was given: the newest this instance knows of, until the reader sees a newer one. */
  published(id: string): void {
    this.#lastKnown = maxId(this.#lastKnown, id);
  }

  /** Starts reading (once). */
  start(): void {
    this.#loop ??= this.#read();
  }

  /** Ends the blocking read now, not after `blockMs`, and waits for the loop (the signal is aborted). */
  async stop(): Promise<void> {
    this.#connection?.destroy();
    await this.#loop;
  }

  /** One subscriber's catch-up: replay after `from`, then hand over to the live fan-out. */
  async replay(subscriber: Subscriber, from: string): Promise<void> {
    const { signal } = subscriber;
    // Replaying only once the reader has its position keeps the hand-over gap-free: the replay
    // ends at the stream's end as read after that, and the reader delivers everything later.
    await abortable(this.#started, signal);
    let position = from;
    for (let failures = 0; !signal.aborted; ) {
      try {
        const c = await this.#ready(signal);
        if (!c) continue;
        const covered = this.#epoch;
        const valid = isValidId(position);
        const snap = await snapshot(c, this.#options.stream, valid ? position : undefined, PAGE + 1);
        if (signal.aborted) return;
        const verdict = valid ? classify(position, snap) : 'unknown';
        if (verdict !== 'ok') {
          subscriber.replay(resetEvent(endOf(snap), verdict));
          subscriber.goLive(covered);
          return;
        }
        if (subscriber.cursor === undefined) subscriber.seek(position);
        for (const entry of snap.entries) subscriber.replay(decode(entry));
        this.#lastKnown = maxId(this.#lastKnown, snap.exists ? snap.lastGenerated : undefined);
        if (snap.entries.length <= PAGE) {
          subscriber.goLive(covered);
          return;
        }
        position = subscriber.cursor ?? position;
        failures = 0;
      } catch {
        position = subscriber.cursor ?? position;
        await delay(retryDelay(failures++), signal);
      }
    }
  }

  /** The command connection when it is ready; otherwise undefined once it is, or `signal` aborts. */
  async #ready(signal: AbortSignal): Promise<Connection | undefined> {
    const c = await this.#options.connection();
    if (c.isReady) return c;
    await whenReady(c, signal);
    return undefined;
  }

  #announceReset(reason: 'retention' | 'log-lost', snap: Snapshot): void {
    const end = endOf(snap);
    this.#epoch++;
    this.#cursor = end;
    this.#lastKnown = snap.exists ? end : undefined;
    this.#retained = snap.length;
    this.#lagMs = 0;
    this.#options.fanout.emit(resetEvent(end, reason), this.#epoch);
  }

  #deliver(entries: Snapshot['entries']): void {
    for (const entry of entries) {
      const event = decode(entry);
      this.#cursor = event.id;
      this.#lastKnown = maxId(this.#lastKnown, event.id);
      this.#lagMs = Math.max(0, Date.now() - event.at);
      this.#options.fanout.emit(event, this.#epoch);
    }
  }

  /** After (re)connecting: is the reader's position still in this stream's history? */
  async #checkPosition(c: Connection, from: string): Promise<void> {
    const snap = await snapshot(c, this.#options.stream, from, 1);
    this.#retained = snap.length;
    const verdict = classify(from, snap);
    if (verdict !== 'ok') this.#announceReset(verdict === 'retention' ? 'retention' : 'log-lost', snap);
  }

  /**
   * The reader's starting point: the stream's end, looked up on the command connection as soon as
   * the first subscribe() starts the reader. A publish this process makes after that subscribe()
   * is queued behind the look-up on the same connection, so the reader cannot start past it.
   */
  async #origin(): Promise<Connection | undefined> {
    const { signal } = this.#options;
    for (let failures = 0; !signal.aborted; ) {
      try {
        const c = await this.#ready(signal);
        if (!c) continue;
        const snap = await snapshot(c, this.#options.stream, undefined, 0);
        this.#cursor = endOf(snap);
        this.#retained = snap.length;
        this.#lastKnown = maxId(this.#lastKnown, snap.exists ? this.#cursor : undefined);
        this.#markStarted();
        return c;
      } catch {
        await delay(retryDelay(failures++), signal);
      }
    }
    return undefined;
  }

  async #read(): Promise<void> {
    const { stream, retain, blockMs, signal } = this.#options;
    const parent = await this.#origin();
    if (!parent || signal.aborted) return;
    const c = parent.duplicate({ disableOfflineQueue: true });
    this.#connection = c;
    c.on('error', () => {});
    c.connect().catch(() => {});
    let verified = false;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!c.isReady) {
          await whenReady(c, signal);
          continue;
        }
        const from = this.#cursor ?? ZERO_ID;
        if (!verified) {
          await this.#checkPosition(c, from);
          verified = true;
          continue; // the position may have moved
        }
        // Sent together (pipelined): the length for stats() costs no extra round trip, and it
        // answers at once, before the read blocks.
        c.sendCommand(['XLEN', stream]).then(
          (count) => {
            if (typeof count === 'number') this.#retained = count;
          },
          () => {},
        );
        const reply = await c.sendCommand([
          'XREAD',
          'COUNT',
          String(READ_COUNT),
          'BLOCK',
          String(blockMs),
          'STREAMS',
          stream,
          from,
        ]);
        failures = 0;
        let entries = entriesOf(streamOf(reply, stream));
        if (entries.length === 0) {
          this.#lagMs = 0; // a whole blocking read without news: caught up
          continue;
        }
        // MAXLEN ~ keeps at least `retain` entries, so a batch smaller than that cannot have been
        // overtaken by trimming. A bigger one may: read it again together with the stream's
        // bookkeeping in one atomic look, so the verdict and the entries agree.
        if (entries.length >= Math.min(retain, READ_COUNT)) {
          const snap = await snapshot(c, stream, from, READ_COUNT + 1);
          const verdict = classify(from, snap);
          if (verdict !== 'ok') {
            this.#announceReset(verdict === 'retention' ? 'retention' : 'log-lost', snap);
            continue;
          }
          entries = snap.entries.filter(([id]) => compareIds(id, from) > 0);
        }
        this.#deliver(entries);
      } catch {
        if (signal.aborted) break;
        verified = false; // the connection may have dropped: the stream may be another one now
        if (c.isReady) await delay(retryDelay(failures++), signal);
      }
    }
  }
}
