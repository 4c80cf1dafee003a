import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { memoryBus } from '../../src/bus/memory.js';
import { redisBus } from '../../src/bus/redis.js';
import { busContract, event, watch } from '../helpers/bus-contract.js';
import { useCallerClient, useRedisServer } from '../helpers/use-services.js';

busContract('memoryBus', (options) => memoryBus(options));

const server = useRedisServer();
const run = `strata-test:bus:${process.pid}:${Date.now().toString(36)}`;
let streams = 0;
/** One stream per bus: tests never see each other's events. The hash tag keeps it Cluster-ready. */
const nextStream = () => `{${run}:${++streams}}:purges`;

busContract('redisBus (url)', (options) => redisBus({ url: server().url, stream: nextStream(), ...options }));

describe('redisBus with a client it was given (RESP2)', () => {
  const { client, given } = useCallerClient('the RESP2 client', () => createClient({ url: server().url, RESP: 2 }));

  busContract('redisBus (client, RESP2)', (options) => redisBus({ client: given(), stream: nextStream(), ...options }));

  it('leaves the given client open when it closes', async () => {
    const bus = redisBus({ client: given(), stream: nextStream() });
    const w = watch(bus, undefined);
    const id = await bus.publish(event());
    await w.untilCount(1);
    expect(w.ids()).toEqual([id]);
    await bus.close();
    expect(await client().ping()).toBe('PONG');
  });
});
