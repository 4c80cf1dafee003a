/**
 * Bodies Strata already holds in memory, handed to the adapters that write responses to the
 * socket themselves. An answer built from a stored entry would otherwise wrap its bytes in a
 * Web stream only for the adapter to read them back; on Node 20 building that stream costs more
 * than the rest of the answer. An adapter that writes held bodies marks the Request it builds
 * (`writesHeldBodies`); answers to it carry no stream, their bytes kept here (`heldBody`).
 * A Request nobody marked — `strata.handle` called directly — gets an ordinary Response.
 */
const writers = new WeakSet<Request>();
const bodies = new WeakMap<Response, Uint8Array>();

/** Marks `request` as coming from an adapter that writes `heldBody(response)` itself. */
export function writesHeldBodies(request: Request): Request {
  writers.add(request);
  return request;
}

/** A Response of `body` for `request`: streamless, the bytes held, when its adapter writes them. */
export function bodyResponse(request: Request, body: Uint8Array | null, init: ResponseInit): Response {
  if (body === null || !writers.has(request)) return new Response(body, init);
  const response = new Response(null, init);
  bodies.set(response, body);
  return response;
}

/** The bytes an answer built by `bodyResponse` holds instead of a stream. */
export function heldBody(response: Response): Uint8Array | undefined {
  return bodies.get(response);
}
