import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Strata } from '@strata/server';
import { afterAll, beforeAll } from 'vitest';

/**
 * Listens `server` on a loopback port of its own for the suite, and closes it and `strata` after.
 * Returns the port, read once the server listens.
 */
export function useListening(server: Server, strata: Strata): () => number {
  let port = 0;
  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.close();
    await strata.close();
  });
  return () => port;
}
