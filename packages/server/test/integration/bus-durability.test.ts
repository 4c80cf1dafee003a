import { Socket } from 'node:net';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoss } from '../../src/bus/event.js';
import { compareIds, ZERO_ID } from '../../src/bus/ids.js';
import { redisBus } from '../../src/bus/redis.js';
import type { Bus } from '../../src/bus/types.js';
import { reset, watch } from '../helpers/bus-contract.js';
import { useRedisServer } from '../helpers/use-services.js';

let counter = 0;
const event = (): Parameters<Bus['publish']>[0] => ({
  tags: [`t:${++counter}`],
  keys: [`/k/${counter}`],
  at: Date.now(),
});
const publishMany = (bus: Bus, count: number) => Promise.all(Array.from({ length: count }, () => bus.publish(event())));

/**
 * What an outbox does: keep the event and try again until the log takes it. The short pause
 * between attempts is the outbox's backoff, bounded by `timeoutMs`.
 */
async function publishUntilAccepted(
  bus: Bus,
  input: Parameters<Bus['publish']>[0],
  timeoutMs = 5_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await bus.publish(input);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const expectIncreasing = (ids: readonly string[]) => {
  for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1] ?? '', ids[i] ?? ''), `${ids[i]}`).toBeLessThan(0);
};

/** Handles and timers of this process, by kind (Immediates are transient). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind !== 'Immediate') counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** Open sockets to `port`: the buses' connections, told apart from anything else in the process. */
function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((handle) => handle instanceof Socket && !handle.destroyed && handle.remotePort === port).length;
}

/**
 * Polls `holds` until it is true (a closed socket goes away a few I/O turns later), with its own
 * timer out of the way while it looks; fails after `timeoutMs` with `describe()`.
 */
async function settles(holds: () => boolean, describe: () => unknown, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!holds() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(holds(), JSON.stringify(describe())).toBe(true);
}

/** No kind of handle or timer above `baseline`: a leak adds, while unrelated timers may expire meanwhile. */
const noneAbove = (baseline: Record<string, number>) =>
  settles(
    () => Object.entries(resources()).every(([kind, count]) => count <= (baseline[kind] ?? 0)),
    () => ({ now: resources(), baseline }),
  );

describe('redisBus durability (own redis-server)', () => {
  const server = useRedisServer();
  const run = `strata-test:durability:${process.pid}:${Date.now().toString(36)}`;
  let streams = 0;
  const nextStream = () => `{${run}:${++streams}}:purges`;
  const opened: Bus[] = [];
  const open = (stream: string, options: { retain?: number } = {}) => {
    const bus = redisBus({ url: server().url, stream, ...options });
    opened.push(bus);
    return bus;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
  });

  it('200 subscribe/close cycles leave no subscriber, listener, timer or socket; close() releases the rest', async () => {
    const { port } = server();
    const timersBefore = resources().Timeout ?? 0;
    const stream = nextStream();
    const bus = open(stream);
    const keeper = watch(bus, undefined);
    const ids = await publishMany(bus, 20);
    await keeper.untilCount(20);
    const running = resources();

    let lateCalls = 0;
    for (let i = 0; i < 200; i++) {
      if (i % 20 === 0) {
        // Some close only after their replay has started delivering.
        const w = watch(bus, ids[0]);
        await w.untilCount(1);
        w.close();
        continue;
      }
      const from = [undefined, ids[5], 'bogus', ZERO_ID][i % 4];
      bus.subscribe(from, () => lateCalls++).close();
    }
    expect(bus.stats().subscribers).toBe(1);
    const after = await bus.publish(event());
    await keeper.untilCount(21);
    expect(keeper.ids().at(-1)).toBe(after);
    expect(lateCalls).toBe(0);
    await noneAbove(running);
    expect(socketsTo(port)).toBe(2); // one for commands, one for the blocking reader

    keeper.close();
    const started = performance.now();
    await bus.close(); // its reader is inside a 5 s blocking read
    expect(performance.now() - started).toBeLessThan(1_000);
    await settles(
      () => socketsTo(port) === 0,
      () => socketsTo(port),
    );
    expect(resources().Timeout ?? 0).toBeLessThanOrEqual(timersBefore);
  });

  it('a subscriber closed while 100 purges are published receives all 100 in order when it resumes', async () => {
    const stream = nextStream();
    const publisher = open(stream);
    const first = watch(publisher, undefined);
    const before = await publishMany(publisher, 3);
    await first.untilCount(3);
    const last = first.ids().at(-1);
    expect(last).toBe(before[2]);
    first.close();

    const missed = await publishMany(publisher, 100);
    // Resumes on another instance, as a restarted server (or a browser through another one) would.
    const resumed = watch(open(stream), last);
    await resumed.untilCount(100);
    const live = await publisher.publish(event());
    await resumed.untilCount(101);
    expect(resumed.ids()).toEqual([...missed, live]);
    expect(resumed.resets()).toEqual([]);
  });

  it('one that resumes from an id older than `retain` gets a reset, then live events', async () => {
    const stream = nextStream();
    const bus = open(stream, { retain: 5 });
    const first = watch(bus, undefined);
    const [seen] = await publishMany(bus, 1);
    await first.untilCount(1);
    first.close();
    const missed = await publishMany(bus, 300); // MAXLEN ~ trims whole 100-entry nodes
    const resumed = watch(open(stream, { retain: 5 }), seen);
    await resumed.until('a reset', () => resumed.messages.length > 0);
    expect(resumed.messages[0]).toEqual(reset(missed.at(-1), 'retention'));
    const live = await bus.publish(event());
    await resumed.untilCount(1);
    expect(resumed.ids()).toEqual([live]);
  });

  it('a live subscriber that trimming overtakes gets a retention reset, never a silent gap', async () => {
    const stream = nextStream();
    const bus = open(stream, { retain: 5 });
    const live = watch(bus, undefined);
    const published = await publishMany(bus, 1);
    await live.untilCount(1);
    // A slow subscriber: the first event of the burst holds the process for 50 ms, so the reader
    // cannot read on while Redis takes the rest of the burst and trims (whole 100-entry nodes).
    let slowed = false;
    const slow = bus.subscribe(undefined, (message) => {
      if (slowed || message.all) return;
      slowed = true;
      const until = Date.now() + 50;
      while (Date.now() < until) slowed = true;
    });
    const last = () => published.at(-1) ?? '';
    // The last event arrives, or a reset to it or past it covers it.
    const covered = () =>
      live.ids().includes(last()) || live.resets().some((reset) => compareIds(reset.id ?? ZERO_ID, last()) >= 0);
    published.push(...(await publishMany(bus, 400)));
    await live.until('the burst delivered or covered', covered);
    // Once or more: the burst can overtake the reader again after it jumped to the end.
    const afterSlow = live.resets().length;
    expect(afterSlow).toBeGreaterThanOrEqual(1);
    slow.close();

    // The same while the reader is disconnected: it finds out when it checks its position again.
    const admin = createClient({ url: server().url });
    admin.on('error', () => {});
    await admin.connect();
    try {
      const list = String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'normal']));
      const reader = /^id=(\d+) .*cmd=xread/m.exec(list)?.[1];
      expect(reader).toBeDefined();
      await admin.sendCommand(['CLIENT', 'KILL', 'ID', reader ?? '']);
      published.push(...(await publishMany(bus, 400)));
      await live.until('another reset', () => live.resets().length > afterSlow);
      await live.until('the burst delivered or covered', covered);
    } finally {
      await admin.close();
    }

    published.push(await bus.publish(event())); // and the reader carries on
    await live.untilAll([last()]);
    expect(live.ids().at(-1)).toBe(last());
    expect(new Set(live.resets().map((reset) => reset.reason))).toEqual(new Set(['retention']));
    // Between resets, what arrives is an unbroken run of what was published.
    const runs: string[][] = [[]];
    for (const message of live.messages) {
      if (isLoss(message)) runs.push([]);
      else runs.at(-1)?.push(message.id);
    }
    for (const ids of runs.filter((ids) => ids.length > 0)) {
      const first = published.indexOf(ids[0] ?? '');
      expect(first).toBeGreaterThanOrEqual(0);
      expect(ids).toEqual(published.slice(first, first + ids.length));
    }
  });

  it('a publish is one command (XADD); the stream length in stats() comes from the reader', async () => {
    const admin = createClient({ url: server().url });
    await admin.connect();
    try {
      const calls = async (command: string) => {
        const info = String(await admin.sendCommand(['INFO', 'commandstats']));
        return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      };
      const bus = open(nextStream());
      await bus.publish(event()); // connected
      const [xadd, xlen] = [await calls('xadd'), await calls('xlen')];
      await publishMany(bus, 10);
      expect(await calls('xadd')).toBe(xadd + 10);
      expect(await calls('xlen')).toBe(xlen); // no subscriber, so no reader: nothing asked the length

      const w = watch(bus, ZERO_ID);
      await w.untilCount(11);
      await settles(
        () => bus.stats().retained === 11,
        () => bus.stats(),
      );
    } finally {
      await admin.close();
    }
  });

  it('two bus instances on one Redis: what either publishes reaches every subscriber of both, in one order', async () => {
    const stream = nextStream();
    const a = open(stream);
    const b = open(stream);
    // From an id: "from now" on a fresh instance starts when it has read the stream's end, which
    // nothing orders against another instance's publishes. An id does.
    const [genesis] = await publishMany(a, 1);
    const watchers = [watch(b, genesis), watch(b, genesis), watch(a, genesis)];
    const published = (await Promise.all([publishMany(a, 50), publishMany(b, 50)])).flat();
    const order = [...published].sort(compareIds);
    await Promise.all(watchers.map((w) => w.untilCount(100)));
    for (const w of watchers) expect(w.ids()).toEqual(order);
    expect(b.stats()).toMatchObject({ subscribers: 2, lastId: order.at(-1) });
  });

  it('a connection blip that keeps the data (CLIENT KILL) loses nothing and repeats nothing', async () => {
    const stream = nextStream();
    const bus = open(stream);
    const live = watch(bus, undefined);
    const [start] = await publishMany(bus, 1);
    await live.untilCount(1);
    const replaying = watch(open(stream), start); // a second instance, resuming while the blips happen
    const admin = createClient({ url: server().url });
    admin.on('error', () => {});
    await admin.connect();
    try {
      const acked: string[] = [];
      for (let i = 0; i < 60; i++) {
        if (i === 10 || i === 50) {
          const killed = await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
          expect(Number(killed)).toBeGreaterThanOrEqual(4); // both connections of both buses
        }
        if (i === 30) {
          // Only the blocked readers: publishing goes on while they reconnect, so a reader that
          // resumed from "now" instead of its last id would miss what was published meanwhile.
          const list = String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'normal']));
          const readers = [...list.matchAll(/^id=(\d+) .*cmd=xread/gm)].map((match) => match[1] ?? '');
          expect(readers).toHaveLength(2);
          for (const id of readers) await admin.sendCommand(['CLIENT', 'KILL', 'ID', id]);
          acked.push(...(await publishMany(bus, 10)));
        }
        acked.push(await publishUntilAccepted(bus, event()));
      }
      await Promise.all([live.untilAll(acked), replaying.untilAll(acked)]);
      const sentinel = await publishUntilAccepted(bus, event());
      await Promise.all([live.untilAll([sentinel]), replaying.untilAll([sentinel])]);
      for (const w of [live, replaying]) {
        expectIncreasing(w.ids()); // in order, no id twice
        expect(w.resets()).toEqual([]);
        expect(w.ids().at(-1)).toBe(sentinel);
      }
      expect(live.ids().slice(0, 1)).toEqual([start]);
      expect(bus.stats().connected).toBe(true);
    } finally {
      await admin.close();
    }
  });

  it('Redis killed under a live subscriber: publish rejects fast; after the restart, one log-lost reset, then new events', async () => {
    const stream = nextStream();
    const bus = open(stream);
    const other = open(stream);
    const live = watch(bus, undefined);
    const [genesis] = await publishMany(bus, 1);
    const elsewhere = watch(other, genesis);
    await live.untilCount(1);
    const before = await publishMany(bus, 5);
    await Promise.all([live.untilCount(6), elsewhere.untilCount(5)]);

    await server().kill();
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await expect(bus.publish(event())).rejects.toMatchObject({ name: 'StrataError', code: 'E_BUS_UNAVAILABLE' });
      expect(performance.now() - started).toBeLessThan(500);
    }
    // A bus created while Redis is down fails fast too, and closes at once.
    const lonely = redisBus({ url: server().url, stream });
    const started = performance.now();
    await expect(lonely.publish(event())).rejects.toMatchObject({ code: 'E_BUS_UNAVAILABLE' });
    await lonely.close();
    expect(performance.now() - started).toBeLessThan(2_500);
    // Resuming while Redis is down: the replay waits for it.
    const resuming = watch(bus, before[2]);
    expect(bus.stats().connected).toBe(false);

    await server().restart(); // empty: the log is lost
    const lost = (w: ReturnType<typeof watch>) => w.until('a log-lost reset', () => w.resets().length > 0, 10_000);
    await Promise.all([lost(live), lost(elsewhere), lost(resuming)]);
    for (const w of [live, elsewhere]) {
      expect(w.resets()).toEqual([reset(ZERO_ID, 'log-lost')]);
    }
    // Its replay found the log gone (a reset 'unknown'); the reader's 'log-lost' to the same point adds nothing.
    expect(resuming.messages).toEqual([reset(ZERO_ID, 'unknown')]);

    const after: string[] = [];
    for (let i = 0; i < 5; i++) after.push(await publishUntilAccepted(bus, event()));
    await Promise.all([live, elsewhere, resuming].map((w) => w.untilAll(after)));
    expect(live.ids()).toEqual([genesis, ...before, ...after]);
    expect(elsewhere.ids()).toEqual([...before, ...after]);
    expect(live.resets()).toHaveLength(1); // exactly once, though the reader reconnected several times
    expect(elsewhere.resets()).toHaveLength(1);
    expect(resuming.ids()).toEqual(after);
    expect(resuming.resets()).toHaveLength(1);
    // An id from the lost log means nothing to the new one.
    const stale = watch(bus, before[4]);
    await stale.until('a reset', () => stale.messages.length > 0);
    expect(stale.messages[0]).toEqual(reset(after[4], 'unknown'));
  });
});
