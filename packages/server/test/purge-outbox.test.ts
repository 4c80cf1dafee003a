import type { Bus, PurgeEvent } from '@strata/server';
import { memoryBus, memoryStore } from '@strata/server';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../src/purge/outbox.js';
import { PurgeChannel } from '../src/purge-channel.js';
import { resilientStore } from '../src/store/resilient.js';
import { chaos } from './helpers/chaos.js';

/** A real memory store and memory bus, with faults injected into the store and the log's publish. */
function parts() {
  const store = chaos(memoryStore());
  const inner = memoryBus();
  let logDown = false;
  const bus: Bus = {
    publish: (event) => (logDown ? Promise.reject(new Error('log unreachable')) : inner.publish(event)),
    subscribe: (from, listener) => inner.subscribe(from, listener),
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
  const messages: PurgeEvent[] = [];
  inner.subscribe(undefined, (message) => messages.push(message));
  const log = () => messages.filter((m) => !m.reason || m.reason === 'clear-all');
  const setLog = (up: boolean) => {
    logDown = !up;
  };
  return { store, bus, log, setLog };
}

function event(tag: string, at = 1): Parameters<Bus['publish']>[0] {
  return { tags: [tag], keys: [], at };
}

describe('Outbox', () => {
  it('bumps then publishes at once when nothing waits', async () => {
    const { store, bus, log } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish });
    const delivery = await outbox.deliver(['a'], event('a'));
    expect(delivery.queued).toBe(false);
    expect(log()).toEqual([expect.objectContaining({ id: delivery.id, tags: ['a'] })]);
    expect(await store.versions(['a'])).toEqual([1]);
    expect(outbox.size).toBe(0);
    outbox.close();
  });

  it('keeps what the log refused, numbers the placeholders, and publishes each once, in order', async () => {
    const { store, bus, log, setLog } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish });
    setLog(false);
    const ids: string[] = [];
    for (const tag of ['t0', 't1', 't2']) ids.push((await outbox.deliver([tag], event(tag))).id);
    expect(ids).toEqual(['queued:1', 'queued:2', 'queued:3']);
    // Bumps commute, so each reached the store at once: only the events wait, in order, and
    // the store is not behind (reads keep their cache).
    expect(await store.versions(['t0', 't1', 't2'])).toEqual([1, 1, 1]);
    expect(outbox.storeBehind).toBe(false);
    await outbox.flush();
    expect(outbox.size).toBe(3);
    setLog(true);
    await outbox.flush();
    expect(outbox.size).toBe(0);
    expect(log().map((e) => e.tags[0])).toEqual(['t0', 't1', 't2']);
    // Each bump was applied once: the flush does not bump again what already reached the store.
    expect(await store.versions(['t0', 't1', 't2'])).toEqual([1, 1, 1]);
    outbox.close();
  });

  it('lets nothing overtake a purge that waits, even once the log answers again', async () => {
    const { store, bus, log, setLog } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish });
    setLog(false);
    await outbox.deliver(['first'], event('first'));
    setLog(true);
    const second = await outbox.deliver(['second'], event('second'));
    expect(second).toEqual({ id: 'queued:2', queued: true });
    await outbox.flush();
    expect(log().map((e) => e.tags[0])).toEqual(['first', 'second']);
    outbox.close();
  });

  it('while the store is down keeps the bumps, reports the store behind, and publishes only after bumping', async () => {
    const { store, bus, log } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish });
    store.fail(['bump']);
    await outbox.deliver(['a'], event('a'));
    await outbox.deliver(undefined, event('b'));
    expect(outbox.storeBehind).toBe(true);
    await outbox.flush();
    // The first purge's bump failed again: its event and the one behind it stay unpublished.
    expect(log()).toEqual([]);
    expect(outbox.size).toBe(2);
    store.ok();
    await outbox.flush();
    expect(outbox.size).toBe(0);
    expect(outbox.storeBehind).toBe(false);
    expect(await store.inner.versions(['a'])).toEqual([1]);
    expect(log().map((e) => e.tags[0])).toEqual(['a', 'b']);
    outbox.close();
  });

  it('catches the store up on every waiting purge in one bump, before publishing them in order', async () => {
    const { store, bus, log } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish });
    store.fail(['bump']);
    const tags = Array.from({ length: 50 }, (_, i) => `t${i}`);
    for (const tag of tags) await outbox.deliver([tag, 'shared'], event(tag));
    await outbox.flush();
    expect(outbox.distrusts(['t49'])).toBe(true);
    store.ok();
    store.resetCounters();
    await outbox.flush();
    expect(store.forwarded.bump).toBe(1);
    expect(await store.inner.versions([...tags, 'shared'])).toEqual([...tags.map(() => 1), 1]);
    expect(log().map((e) => e.tags[0])).toEqual(tags);
    expect(outbox.distrusts(['t49', 'shared'], Date.now())).toBe(false);
    outbox.close();
  });

  it('past its bound collapses what waits into one clear-all carrying every pending bump', async () => {
    const { store, bus, log, setLog } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish }, { max: 3 });
    store.fail(['bump']);
    setLog(false);
    for (const tag of ['a', 'b', 'c', 'd']) await outbox.deliver([tag], event(tag, 7));
    expect(outbox.size).toBe(2);
    await outbox.flush();
    store.ok();
    setLog(true);
    await outbox.flush();
    expect(log()).toEqual([
      expect.objectContaining({ tags: [], keys: [], all: true, at: 7 }),
      expect.objectContaining({ tags: ['d'] }),
    ]);
    expect(await store.inner.versions(['a', 'b', 'c', 'd'])).toEqual([1, 1, 1, 1]);
    outbox.close();
  });
});

describe('Outbox.distrusts: what reads bypass while purges wait', () => {
  it('names the tags of waiting bumps and entries stored since the store fell behind, and nothing once drained', async () => {
    const { store, bus } = parts();
    let now = 1_000;
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish }, { now: () => now });
    expect(outbox.distrusts(['a'], 0)).toBe(false);
    store.fail(['bump']);
    await outbox.deliver(['a', 'url:/x'], event('a'));
    now = 2_000;
    await outbox.deliver(['b'], event('b'));
    expect(outbox.distrusts(['a'])).toBe(true);
    expect(outbox.distrusts(['z', 'url:/x'])).toBe(true);
    expect(outbox.distrusts(['b'])).toBe(true);
    expect(outbox.distrusts(['z'])).toBe(false);
    expect(outbox.distrusts(['z'], 999)).toBe(false);
    expect(outbox.distrusts(['z'], 1_000)).toBe(true); // stored once the first bump had failed
    await outbox.flush(); // the failed flush the second purge started
    store.ok();
    await outbox.flush();
    expect(outbox.size).toBe(0);
    for (const tags of [['a'], ['b'], ['url:/x']]) expect(outbox.distrusts(tags, 5_000)).toBe(false);
    outbox.close();
  });

  it('a purge whose bumps reached the store, waiting only for the log, bypasses nothing', async () => {
    const { store, bus, setLog } = parts();
    const outbox = new Outbox({ bump: (t) => store.bump(t), publish: bus.publish });
    setLog(false);
    expect((await outbox.deliver(['a'], event('a'))).queued).toBe(true);
    expect(outbox.distrusts(['a'], Date.now())).toBe(false);
    outbox.close();
  });

  it('a waiting clear, pattern or collapsed overflow distrusts every entry until its store work is done', async () => {
    const { store, bus } = parts();
    const outbox = new Outbox(
      { bump: (t) => store.bump(t), clear: () => store.clear(), publish: bus.publish },
      { max: 2 },
    );
    store.fail(['clear', 'bump']);
    await outbox.deliver(undefined, { tags: [], keys: [], all: true, at: 1 }, { clear: true });
    expect(outbox.distrusts(['z'])).toBe(true);
    await outbox.flush();
    store.ok(['clear']);
    await outbox.flush();
    expect(outbox.size).toBe(0);
    expect(outbox.distrusts(['z'])).toBe(false);

    await outbox.deliver(['url:/p'], event('p'), { everything: true });
    expect(outbox.distrusts(['z'])).toBe(true);
    await outbox.deliver(['q'], event('q'));
    await outbox.deliver(['r'], event('r')); // past the bound: one clear-all in their place
    expect(outbox.size).toBe(2);
    expect(outbox.distrusts(['z'])).toBe(true);
    await outbox.flush();
    store.ok();
    await outbox.flush();
    expect(outbox.distrusts(['z', 'q', 'r', 'url:/p'], Date.now())).toBe(false);
    outbox.close();
  });
});

describe('PurgeChannel outbox', () => {
  it('still flushes after a flush of an empty outbox', async () => {
    // Before the split, flushing an empty outbox left a settled promise in place of "no flush
    // running", and every later flush returned it without sending anything.
    const { bus, log, setLog } = parts();
    const channel = new PurgeChannel({
      store: resilientStore(memoryStore()),
      bus,
      purgers: [],
      now: () => 1,
      track: () => {},
    });
    await channel.flush();
    setLog(false);
    expect((await channel.purge({ tags: ['a'] })).id).toBe('queued:1');
    setLog(true);
    await channel.flush();
    expect(channel.outboxSize).toBe(0);
    expect(log().map((e) => e.tags)).toEqual([['a']]);
    channel.close();
  });
});

describe('Outbox with soft purges', () => {
  it('bumps a soft purge soft, and catches up the store with the earliest soft purge of a tag; any hard one makes it hard', async () => {
    const { bus } = parts();
    const bumps: [string[], number | undefined][] = [];
    let storeDown = false;
    const outbox = new Outbox({
      bump: async (tags, softAt) => {
        if (storeDown) throw new Error('store unreachable');
        bumps.push([tags, softAt]);
      },
      publish: bus.publish,
    });
    await outbox.deliver(['now'], { ...event('now', 3), mode: 'soft' });
    expect(bumps).toEqual([[['now'], 3]]);
    bumps.length = 0;
    storeDown = true;
    await outbox.deliver(['a'], { ...event('a', 5), mode: 'soft' });
    await outbox.deliver(['a', 'b'], { tags: ['a', 'b'], keys: [], at: 6, mode: 'soft' });
    await outbox.deliver(['b'], event('b', 7));
    expect(outbox.storeBehind).toBe(true);
    storeDown = false;
    await outbox.flush();
    expect(outbox.size).toBe(0);
    expect(bumps).toEqual([
      [['b'], undefined],
      [['a'], 5],
    ]);
    outbox.close();
  });
});
