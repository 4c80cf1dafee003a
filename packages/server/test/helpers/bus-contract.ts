import { EVENT_FORMAT } from '@strata/policy/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoss } from '../../src/bus/event.js';
import { compareIds, isValidId, ZERO_ID } from '../../src/bus/ids.js';
import type { Bus, PurgeEvent } from '../../src/bus/types.js';

/** What a reset the bus makes looks like: drop everything tagged, and go on after `id`. */
export const reset = (id: string | undefined, reason: 'retention' | 'unknown' | 'log-lost') =>
  expect.objectContaining({ id, all: true, reason, tags: [], keys: [] });

/** A subscription that records what it receives and resolves waits as soon as a condition holds. */
export interface Watch {
  readonly messages: PurgeEvent[];
  ids(): string[];
  /** The resets the bus made (not log entries). */
  resets(): PurgeEvent[];
  /** Resolves when `predicate` holds, checked on every message; rejects after `timeoutMs`. */
  until(what: string, predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Waits for `count` purges in all. */
  untilCount(count: number, timeoutMs?: number): Promise<void>;
  /** Waits until every id in `expected` has arrived. */
  untilAll(expected: readonly string[], timeoutMs?: number): Promise<void>;
  close(): void;
}

export function watch(bus: Bus, from: string | undefined): Watch {
  const messages: PurgeEvent[] = [];
  const checks = new Set<() => void>();
  const subscription = bus.subscribe(from, (message) => {
    messages.push(message);
    for (const check of checks) check();
  });
  const ids = () => messages.flatMap((event) => (isLoss(event) ? [] : [event.id]));
  const until = (what: string, predicate: () => boolean, timeoutMs = 5_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        checks.delete(check);
        const seen = messages.map((m) => (isLoss(m) ? `reset(${m.reason}→${m.id})` : m.id));
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${messages.length}: ${seen.slice(-8).join(', ')}`));
      }, timeoutMs);
      checks.add(check);
    });
  return {
    messages,
    ids,
    resets: () => messages.filter(isLoss),
    until,
    untilCount: (count, timeoutMs) => until(`${count} purges`, () => ids().length >= count, timeoutMs),
    untilAll: (expected, timeoutMs) =>
      until(
        `all of ${expected.length} ids`,
        () => {
          const got = new Set(ids());
          return expected.every((id) => got.has(id));
        },
        timeoutMs,
      ),
    close: () => subscription.close(),
  };
}

let counter = 0;
export const event = (tag = `t:${++counter}`): Parameters<Bus['publish']>[0] => ({
  tags: [tag],
  keys: [],
  at: Date.now(),
});
/** Published together (pipelined on Redis); the ids come back in publish order. */
export const publishMany = (bus: Bus, count: number) =>
  Promise.all(Array.from({ length: count }, () => bus.publish(event())));

/** Handles and timers of this process, by kind: what a leak would add to. Immediates are transient. */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind !== 'Immediate') counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Waits until no kind of handle or timer is above `baseline` (closed sockets go away a few I/O
 * turns later; unrelated timers may expire meanwhile, a leak only adds). Polls with its own timer
 * out of the way while it looks, so it does not count itself; fails after `timeoutMs`.
 */
async function noneAbove(baseline: Record<string, number>, timeoutMs = 2_000): Promise<void> {
  const holds = () => Object.entries(resources()).every(([kind, count]) => count <= (baseline[kind] ?? 0));
  const deadline = Date.now() + timeoutMs;
  while (!holds() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(holds(), JSON.stringify({ now: resources(), baseline })).toBe(true);
}

/**
 * The one `Bus` contract: every implementation must pass it unchanged. Each test opens its own
 * bus (its own stream on Redis) and closes it afterwards.
 */
export function busContract(name: string, open: (options: { retain?: number }) => Bus): void {
  describe(`Bus contract: ${name}`, () => {
    const opened: Bus[] = [];
    const create = (options: { retain?: number } = {}) => {
      const bus = open(options);
      opened.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((bus) => bus.close()));
    });

    it('publish resolves strictly increasing ids of the form ms-seq', async () => {
      const bus = create();
      const together = await publishMany(bus, 50);
      const oneByOne: string[] = [];
      for (let i = 0; i < 10; i++) oneByOne.push(await bus.publish(event()));
      const ids = [...together, ...oneByOne];
      for (const id of ids) expect(isValidId(id), id).toBe(true);
      for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1] ?? '', ids[i] ?? '')).toBeLessThan(0);
      expect(bus.stats().lastId).toBe(ids.at(-1));
    });

    it('a subscriber from now receives the later events in order, and none from before', async () => {
      const bus = create();
      const earlier = await publishMany(bus, 3);
      const w = watch(bus, undefined);
      const later = await publishMany(bus, 30);
      await w.untilCount(30);
      expect(w.ids()).toEqual(later);
      expect(w.ids()).not.toContain(earlier.at(-1));
      expect(w.resets()).toEqual([]);
    });

    it('a subscriber from an id gets exactly the events after it, then live ones, while publishes race the replay', async () => {
      const bus = create();
      const backlog = await publishMany(bus, 1_200); // several replay pages on Redis
      const from = backlog[99] ?? '';
      // Publishing one event after another while the subscriber replays.
      const racing = (async () => {
        const ids: string[] = [];
        for (let i = 0; i < 150; i++) ids.push(await bus.publish(event()));
        return ids;
      })();
      const w = watch(bus, from);
      const raced = await racing;
      const expected = [...backlog.slice(100), ...raced];
      await w.untilCount(expected.length);
      const sentinel = await bus.publish(event('sentinel'));
      await w.untilCount(expected.length + 1);
      expect(w.ids()).toEqual([...expected, sentinel]); // no gap, no duplicate, nothing else
      expect(w.resets()).toEqual([]);
    });

    it('two subscribers each receive every event, in the same order', async () => {
      const bus = create();
      const a = watch(bus, undefined);
      const b = watch(bus, undefined);
      const ids = await publishMany(bus, 40);
      await Promise.all([a.untilCount(40), b.untilCount(40)]);
      expect(a.ids()).toEqual(ids);
      expect(b.ids()).toEqual(ids);
      expect(bus.stats().subscribers).toBe(2);
    });

    it('resuming from an id older than what is retained gives a retention reset, then live events', async () => {
      const bus = create({ retain: 5 });
      // MAXLEN ~ trims whole stream nodes (100 entries): publish enough for trimming to happen.
      const ids = await publishMany(bus, 250);
      const behind = watch(bus, ids[0]);
      const close = watch(bus, ids[247]);
      await behind.until('a reset', () => behind.messages.length > 0);
      expect(behind.messages[0]).toEqual(reset(ids[249], 'retention'));
      await close.untilCount(2);
      expect(close.ids()).toEqual([ids[248], ids[249]]); // still retained: replayed exactly
      const next = await bus.publish(event());
      await Promise.all([behind.untilCount(1), close.untilCount(3)]);
      expect(behind.ids()).toEqual([next]); // continues after the reset's id
      expect(behind.resets()).toHaveLength(1);
      expect(close.resets()).toEqual([]);
      expect(bus.stats().retained).toBeGreaterThanOrEqual(5);
      expect(bus.stats().retained).toBeLessThan(250);
    });

    it('resuming from a future, never issued or malformed id gives an unknown reset, then live events', async () => {
      const bus = create();
      const empty = watch(bus, '1700000000000-0'); // nothing was ever published
      await empty.until('a reset', () => empty.messages.length > 0);
      expect(empty.messages[0]).toEqual(reset(ZERO_ID, 'unknown'));

      const ids = await publishMany(bus, 3);
      const last = ids[2] ?? '';
      const [ms] = last.split('-');
      const futures = [
        `${BigInt(ms ?? 0) + 60_000n}-0`,
        `${ms}-99999999999`,
        '18446744073709551615-18446744073709551615',
      ];
      const unknown = ['1-0', ...futures, 'not-an-id', '', `${last}\u0000`, ` ${last}`, `0${last}`];
      const watches = unknown.map((from) => watch(bus, from));
      await Promise.all(watches.map((w) => w.until('a reset', () => w.messages.length > 0)));
      for (const [i, w] of watches.entries()) {
        expect(w.messages[0], unknown[i]).toEqual(reset(last, 'unknown'));
      }
      const next = await bus.publish(event());
      await Promise.all([...watches, empty].map((w) => w.untilCount(1)));
      for (const w of watches) expect(w.ids()).toEqual([next]);
      expect(empty.ids()).toEqual([...ids, next]);
    });

    it('resuming from 0-0 replays everything retained without a reset', async () => {
      const bus = create();
      const ids = await publishMany(bus, 5);
      const w = watch(bus, ZERO_ID);
      await w.untilCount(5);
      expect(w.ids()).toEqual(ids);
      expect(w.resets()).toEqual([]);
    });

    it('close() of a subscription stops its delivery and leaves nothing behind, over 200 cycles', async () => {
      const bus = create();
      const keeper = watch(bus, undefined);
      const first = await bus.publish(event());
      await keeper.untilCount(1);
      const baseline = resources();

      const leftover = watch(bus, undefined);
      const seen = await bus.publish(event());
      await leftover.untilCount(1);
      leftover.close();

      let calls = 0;
      for (let i = 0; i < 200; i++) {
        const from = [undefined, first, ZERO_ID, 'bogus'][i % 4];
        bus.subscribe(from, () => calls++).close();
      }
      expect(bus.stats().subscribers).toBe(1);
      const after = await bus.publish(event());
      await keeper.untilCount(3);
      expect(keeper.ids()).toEqual([first, seen, after]);
      expect(leftover.ids()).toEqual([seen]);
      expect(calls).toBe(0);
      await noneAbove(baseline);
    });

    it('stats() reports the newest id, the retained count, subscribers, lag and connection', async () => {
      const bus = create();
      expect(bus.stats()).toMatchObject({ retained: 0, subscribers: 0, lagMs: 0 });
      const w = watch(bus, undefined);
      const ids = await publishMany(bus, 3);
      await w.untilCount(3);
      const stats = bus.stats();
      expect(stats).toMatchObject({ lastId: ids[2], retained: 3, subscribers: 1, connected: true });
      expect(stats.lagMs).toBeGreaterThanOrEqual(0);
      expect(stats.lagMs).toBeLessThan(5_000);
      w.close();
      expect(bus.stats().subscribers).toBe(0);
      await bus.close();
      expect(bus.stats().connected).toBe(false);
    });

    it('events arrive with tags, keys, partition, all and at unchanged', async () => {
      const bus = create();
      const w = watch(bus, undefined);
      const odd = [
        'user:42',
        'ünïcødé ✓ 🚀',
        'with space',
        'nul\u0000inside',
        'quote"back\\slash',
        'line\r\nbreak',
        '\ud800',
        '',
        '{"a":1}',
      ];
      const tags = [...odd];
      const full = {
        tags,
        keys: ['/a?b=1&c=ü', 'GET http://app.test/x'],
        partition: 'user-7 ü',
        all: true,
        at: 1_700_000_000_123,
      };
      const bare = { tags: ['plain'], keys: [], at: 5 };
      const [a, b] = [await bus.publish(full), await bus.publish(bare)];
      tags.push('added after publishing'); // the log keeps what was published
      await w.untilCount(2);
      const [first, second] = w.messages;
      expect(first).toStrictEqual({ v: EVENT_FORMAT, id: a, ...full, tags: odd, reason: 'clear-all' });
      expect(second).toStrictEqual({ v: EVENT_FORMAT, id: b, ...bare });
      expect(second && ('partition' in second || 'all' in second || 'reason' in second)).toBe(false);
      const replayed = watch(bus, ZERO_ID);
      await replayed.untilCount(2);
      expect(replayed.messages).toStrictEqual(w.messages);
    });

    it('the servers’ own fields (a pattern, the keys of removed entries, the publisher) arrive unchanged', async () => {
      const bus = create();
      const w = watch(bus, undefined);
      const entries = ['GET http://app.test/x #ab12', 'data:ü 1'];
      const removal = { tags: [], keys: [], entries, at: 6 };
      const pattern = {
        tags: [],
        keys: ['http://app.test/y'],
        pattern: 'GET http://app.test/*',
        at: 7,
        publisher: 'p-1',
      };
      const reset = { tags: [], keys: [], all: true, reason: 'clear-all', at: 8, publisher: 'p-1' };
      const ids = [await bus.publish(removal), await bus.publish(pattern), await bus.publish(reset)];
      entries.push('added after publishing');
      await w.untilCount(3);
      expect(w.messages).toStrictEqual([
        { v: EVENT_FORMAT, id: ids[0], ...removal, entries: entries.slice(0, 2) },
        { v: EVENT_FORMAT, id: ids[1], ...pattern },
        { v: EVENT_FORMAT, id: ids[2], ...reset },
      ]);
    });

    it('bus.close() ends subscriptions promptly, and publish rejects afterwards', async () => {
      const bus = create();
      const w = watch(bus, undefined);
      await bus.publish(event());
      await w.untilCount(1);
      const started = performance.now();
      await bus.close();
      expect(performance.now() - started).toBeLessThan(1_000); // not the 5 s a blocking read waits
      expect(bus.stats().subscribers).toBe(0);
      await expect(bus.publish(event())).rejects.toMatchObject({ name: 'StrataError', code: 'E_BUS_UNAVAILABLE' });
      await bus.close(); // twice is fine
    });
  });
}
