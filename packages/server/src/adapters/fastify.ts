import type { Readable } from 'node:stream';
import { StrataError } from '@strata/policy';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { StoredAnswer } from '../cache/response-cache.js';
import { heldBody, writesHeldBodies } from '../held-body.js';
import type { Strata } from '../strata.js';
import { fastAnswer } from './fast.js';
import { toRequest } from './node.js';
import { type Deferred, deferred, headersFromNode, lazyWebStream, NULL_BODY_STATUSES, syncRequest } from './shared.js';

export interface StrataFastifyOptions {
  strata: Strata;
  /** Fixed origin for request URLs. Default: `request.protocol` and `request.host`, which follow Fastify's `trustProxy`. */
  origin?: string;
}

interface Pending {
  phase: 'deciding' | 'origin' | 'served' | 'done';
  /** Strata's answer. */
  answer: Promise<Response>;
  /** What the route answered, handed to Strata from onSend. */
  origin: Deferred<Response>;
  /** Reply fields set before the route ran: this request's own, not part of the origin's answer. */
  before: Map<string, unknown>;
  /** Puts back the request method Strata's origin request changed (HEAD → GET). */
  restore: () => void;
}

/**
 * Fastify 5 plugin. `onRequest` starts `strata.handle` without awaiting it: if Strata answers
 * without asking the origin (hit, 304, stale copy), that answer is sent and the route never runs;
 * if it asks, the request continues to the route, whose reply is captured in `onSend`, handed to
 * Strata, and replaced by Strata's answer. Registered with `skip-override`, so its hooks apply to
 * the whole app (register it before the routes).
 */
export const strataFastify: FastifyPluginAsync<StrataFastifyOptions> = Object.assign(
  async function strataFastify(app: FastifyInstance, opts: StrataFastifyOptions) {
    const { strata } = opts;
    const pending = new WeakMap<FastifyRequest, Pending>();

    app.addHook('onRequest', async (request, reply) => {
      const origin = opts.origin ?? `${request.protocol}://${request.host}`;
      // A fresh hit is sent from the stored entry without building a Request; the route never runs.
      const hit = await fastAnswer(strata, request.raw, origin, request.url);
      if (hit) return reply.send(applyAnswer(reply, hit));
      let web: Request;
      try {
        web = writesHeldBodies(toRequest(request.raw, { origin, url: request.url, response: reply.raw }));
      } catch {
        return; // not representable as a Request: Fastify answers as it would without Strata
      }
      const asked = deferred<void>();
      const state: Omit<Pending, 'answer'> = {
        phase: 'deciding',
        origin: deferred(),
        before: new Map(),
        restore: () => {},
      };
      const answer = strata.handle(web, (inner) => {
        // After Strata's answer was sent (a background refresh of a stale entry) the route cannot run
        // for this request: the refresh fails, is counted, and a later miss refreshes the entry.
        if (state.phase !== 'deciding') {
          return Promise.reject(
            new StrataError(
              'E_ADAPTER_CHAIN',
              '@strata/server/fastify: the route runs at most once, before the answer',
            ),
          );
        }
        state.phase = 'origin';
        state.before = new Map(Object.entries(reply.getHeaders()));
        state.restore = syncRequest(request.raw, inner);
        // A route that hijacks the reply never reaches onSend: do not leave Strata waiting forever.
        reply.raw.once('close', () =>
          state.origin.reject(new StrataError('E_CONNECTION_CLOSED', 'the reply was hijacked or the client left')),
        );
        asked.resolve();
        return state.origin.promise;
      });
      answer.catch(() => {}); // awaited below or in onSend; one nobody waits for (hijacked route) must not go unhandled
      pending.set(request, Object.assign(state, { answer })); // the same object: onSend sees the phase

      await Promise.race([answer, asked.promise]);
      if (state.phase !== 'deciding') return; // Strata asked the origin: on to the route
      state.phase = 'served';
      return reply.send(applyResponse(reply, await answer, []));
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const state = pending.get(request);
      if (state?.phase !== 'origin') return payload;
      state.phase = 'done';
      state.restore(); // Fastify's HEAD handling below reads the method
      const { response: captured, fields } = captureReply(reply, payload, state.before);
      state.origin.resolve(captured);
      const answer = await state.answer;
      // Strata handed the route's answer back untouched (a route outside the manifest): keep the payload as is.
      if (answer === captured) return payload;
      return applyResponse(reply, answer, fields);
    });
  },
  { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: '@strata/server/fastify' },
);

/**
 * The route's reply as a Web Response: status, the fields the route set (`before` holds the
 * request's own, left out), and the payload Fastify is about to send. `fields` names what was taken.
 */
function captureReply(
  reply: FastifyReply,
  payload: unknown,
  before: ReadonlyMap<string, unknown>,
): { response: Response; fields: string[] } {
  const own = Object.entries(reply.getHeaders()).filter(([name, value]) => before.get(name) !== value);
  const headers = headersFromNode(Object.fromEntries(own));
  let status = reply.statusCode;
  let body: ConstructorParameters<typeof Response>[0] = null;
  if (payload instanceof Response) {
    // A route may return a Web Response; Fastify would apply it after onSend.
    status = payload.status;
    payload.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers.set(name, value);
    });
    for (const cookie of payload.headers.getSetCookie()) headers.append('set-cookie', cookie);
    body = payload.body;
  } else if (typeof payload === 'string' || payload instanceof Uint8Array) {
    body = payload;
  } else if (payload instanceof ReadableStream) {
    body = payload;
  } else if (payload && typeof (payload as Readable).pipe === 'function') {
    body = lazyWebStream(payload as Readable);
  }
  if (NULL_BODY_STATUSES.has(status)) {
    if (body instanceof ReadableStream) body.cancel().catch(() => {});
    body = null;
  }
  return { response: new Response(body, { status, headers }), fields: own.map(([name]) => name) };
}

/** An empty payload: Fastify's automatic HEAD routes cannot take a null one. */
const empty = () =>
  new ReadableStream<Uint8Array>({
    start: (controller) => controller.close(),
  });

/** Puts a fresh hit on the reply (fields set by earlier hooks stay) and returns the payload to send. */
function applyAnswer(reply: FastifyReply, answer: StoredAnswer): Buffer | ReadableStream<Uint8Array> {
  reply.code(answer.status);
  const { fields, body } = answer;
  for (let i = 0; i + 1 < fields.length; i += 2) reply.header(fields[i] as string, fields[i + 1]);
  return body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : empty();
}

/**
 * Puts a Web Response on the reply and returns the payload to send. The fields named in `drop`
 * (what the route set, already inside Strata's answer) are removed first; fields set by earlier
 * hooks stay. The payload is never null: Fastify's automatic HEAD routes cannot take a null one.
 */
function applyResponse(
  reply: FastifyReply,
  response: Response,
  drop: readonly string[],
): Buffer | ReadableStream<Uint8Array> {
  for (const name of drop) {
    reply.removeHeader(name);
    reply.raw.removeHeader(name);
  }
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') reply.header(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header('set-cookie', cookies);
  const held = heldBody(response);
  if (held) return Buffer.from(held.buffer, held.byteOffset, held.byteLength);
  return response.body ?? empty();
}
