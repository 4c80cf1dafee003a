import { defineManifest, serverCache } from '@strata/policy';
import { createStrata, type Strata, type StrataOptions } from '@strata/server';
import { redisStore } from '@strata/server/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { sharedFlight } from '../../src/cache/shared-flight.js';
import { resilientStore } from '../../src/store/resilient.js';
import { redisUrlForTests } from '../helpers/use-services.js';

// Cross-instance single flight: instances sharing one real Redis, each with its own connection.

const manifest = defineManifest({
  version: 1,
  routes: [{ match: '/api/items/:id', policy: serverCache(60, { tags: ['item:{id}'] }) }],
});
const get = (id: number) => new Request(`http://app.test/api/items/${id}`);

const instances: Strata[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((strata) => strata.close()));
});

/** An origin that holds every answer until `release()`, counting its calls. */
function gatedOrigin() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const origin = async (request: Request) => {
    const call = ++origin.calls;
    await gate;
    return new Response(`${new URL(request.url).pathname} #${call}`);
  };
  origin.calls = 0;
  origin.release = () => open();
  return origin;
}

let runs = 0;

describe('cross-instance single flight on a real Redis', () => {
  const redisUrl = redisUrlForTests();

  /** `count` instances on one Redis prefix, with `sharedFlight` as given. */
  function cluster(count: number, sharedFlight: StrataOptions['sharedFlight']): Strata[] {
    const prefix = `strata-test:shared-flight:${process.pid}:${++runs}`;
    const made = Array.from({ length: count }, () =>
      createStrata({
        manifest,
        store: redisStore({ url: redisUrl(), prefix }),
        ...(sharedFlight ? { sharedFlight } : {}),
      }),
    );
    instances.push(...made);
    return made;
  }

  /**
   * 10 concurrent misses for one key on each instance; the origin answers once every instance has
   * missed and gone to the origin or the lease (its store has seen the read and the lease call).
   */
  async function burst(group: Strata[], origin: ReturnType<typeof gatedOrigin>, storeCalls: number) {
    const pending = group.flatMap((strata) => Array.from({ length: 10 }, () => strata.handle(get(1), origin)));
    await expect
      .poll(async () => {
        const operations = await Promise.all(group.map(async (strata) => (await strata.stats()).store.operations));
        return origin.calls >= 1 && operations.every((n) => n >= storeCalls);
      })
      .toBe(true);
    origin.release();
    return Promise.all(pending);
  }

  it('three instances missing one key make one origin call; the others answer with its entry, collapsed', async () => {
    const group = cluster(3, { pollMs: 5 });
    const origin = gatedOrigin();
    const responses = await burst(group, origin, 2);
    expect(origin.calls).toBe(1);
    for (const response of responses) expect(await response.text()).toBe('/api/items/1 #1');
    const collapsed = responses.filter((r) => /collapsed/.test(r.headers.get('cache-status') ?? ''));
    expect(collapsed).toHaveLength(29);
    const totals = await Promise.all(group.map(async (strata) => (await strata.stats()).totals));
    expect(totals.reduce((sum, t) => sum + t.origin, 0)).toBe(1);
    expect(totals.reduce((sum, t) => sum + t.miss, 0)).toBe(1);
    expect(totals.reduce((sum, t) => sum + t.collapsed, 0)).toBe(29);
  });

  it('a lease freed between a waiting instance’s last look and its take: it looks once more instead of loading', async () => {
    const store = resilientStore(
      redisStore({ url: redisUrl(), prefix: `strata-test:shared-flight:${process.pid}:${++runs}` }),
    );
    try {
      const holder = await store.lease?.('key', 10_000);
      expect(holder).toBeDefined();
      let stored: string | undefined;
      let looks = 0;
      let loads = 0;
      const answer = await sharedFlight(
        store,
        'key',
        { leaseMs: 10_000, pollMs: 5 },
        async () => `loaded #${++loads}`,
        async () => {
          looks++;
          if (looks > 1) return stored;
          // The holder finishes while this look is on its way: stores, then gives the lease back.
          stored = "the holder's entry";
          await store.unlease?.('key', holder as string);
          return undefined;
        },
      );
      expect({ answer, loads, looks }).toEqual({ answer: "the holder's entry", loads: 0, looks: 2 });
    } finally {
      await store.close();
    }
  });

  it('without it (the default), each instance makes its own call: the calls saved above', async () => {
    const group = cluster(3, undefined);
    const origin = gatedOrigin();
    await burst(group, origin, 1);
    expect(origin.calls).toBe(3);
  });

  it('an instance whose lease holder never answers loads itself once the lease expires', async () => {
    const [a, b] = cluster(2, { leaseMs: 200, pollMs: 10 }) as [Strata, Strata];
    const hung = gatedOrigin();
    const first = a.handle(get(2), hung); // takes the lease, then hangs
    await expect.poll(() => hung.calls).toBe(1);
    let own = 0;
    const answer = await b.handle(get(2), () => new Response(`b's own #${++own}`));
    expect(await answer.text()).toBe("b's own #1");
    expect(answer.headers.get('cache-status')).not.toMatch(/collapsed/);
    hung.release();
    await first;
  });

  it('a lease given back without a stored entry (not storable) lets the waiting instance load at once', async () => {
    const [a, b] = cluster(2, { leaseMs: 60_000, pollMs: 5 }) as [Strata, Strata];
    const origin = gatedOrigin();
    const noStore = async (request: Request) => {
      const response = await origin(request);
      return new Response(await response.text(), { headers: { 'cache-control': 'no-store' } });
    };
    const first = a.handle(get(3), noStore);
    await expect.poll(() => origin.calls).toBe(1);
    const second = b.handle(get(3), noStore);
    origin.release();
    // Were b to wait for the lease to expire, this would take a minute and time the test out.
    expect(await (await second).text()).toBe('/api/items/3 #2');
    expect(await (await first).text()).toBe('/api/items/3 #1');
  });
});
