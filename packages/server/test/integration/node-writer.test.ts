import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeResponse } from '@strata/server/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let server: Server;
let base: string;
let respond: () => Response = () => new Response('');

beforeAll(async () => {
  server = createServer((_req, res) => void writeResponse(res, respond()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('writeResponse', () => {
  it('sends a body that is already in memory in one piece, with its length', async () => {
    respond = () => new Response('{"id":1}', { headers: { 'content-type': 'application/json' } });
    const response = await fetch(base);
    expect(response.headers.get('content-length')).toBe('8');
    expect(response.headers.get('transfer-encoding')).toBeNull();
    expect(await response.text()).toBe('{"id":1}');
    respond = () => new Response(null, { status: 200 });
    expect((await fetch(base)).headers.get('content-length')).toBe('0');
  });

  it('streams a body that is still arriving, without holding back the first chunk', async () => {
    let second: () => void = () => {};
    const secondSent = new Promise<void>((resolve) => {
      second = resolve;
    });
    const encoder = new TextEncoder();
    respond = () =>
      new Response(
        new ReadableStream({
          async start(controller) {
            controller.enqueue(encoder.encode('data: one\n\n'));
            await secondSent;
            controller.enqueue(encoder.encode('data: two\n\n'));
            controller.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const response = await fetch(base);
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    // The first event arrives while the server still holds the second one back.
    expect(decoder.decode((await reader.read()).value)).toBe('data: one\n\n');
    second();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    expect(rest).toBe('data: two\n\n');
  });
});
