import { StrataError } from '@strata/policy';
import type { MiddlewareHandler } from 'hono';
import type { Strata } from '../strata.js';

/**
 * Hono 4 middleware: `strata.handle` around the rest of the chain. Hono already speaks
 * Request/Response, so this only puts Strata's answer in `c.res`.
 */
export function strataHono(strata: Strata): MiddlewareHandler {
  return async (c, next) => {
    // Fields earlier middleware set for this request (a request id, CORS) are its own, not part of
    // the origin's answer: kept out of what Strata may store and replay, and added to the answer.
    const own = new Headers(c.res.headers);
    let chain: Promise<Response> | undefined;
    let answered = false;
    const response = await strata.handle(c.req.raw, (origin) => {
      // Once our answer is in c.res the context is finalized and the handler's response would be
      // dropped: a refresh Strata asks for after answering (stale-while-revalidate) is declined.
      if (answered || chain)
        throw new StrataError('E_ADAPTER_CHAIN', '@strata/server/hono: the chain runs at most once, before the answer');
      // Strata asks for a plain GET when it means to store the answer (no conditionals, not HEAD).
      c.req.raw = origin;
      chain = next().then(() => without(c.res, own));
      return chain;
    });
    // A refresh Strata started beside a stale answer: let the handler's response reach Strata first.
    if (chain) await chain.catch(() => {});
    answered = true;
    // Assigning over an existing c.res merges the old one's fields into the new one, and the old
    // one is the handler's (already inside Strata's answer) or this request's own: clear it first.
    c.res = undefined;
    c.res = response;
    for (const name of new Set(own.keys())) {
      if (response.headers.has(name)) continue;
      if (name === 'set-cookie') for (const cookie of own.getSetCookie()) response.headers.append(name, cookie);
      else response.headers.set(name, own.get(name) as string);
    }
  };
}

/** `response` without the fields it carries unchanged from `own`. */
function without(response: Response, own: Headers): Response {
  const out = new Response(response.body, response);
  for (const name of new Set(own.keys())) if (out.headers.get(name) === own.get(name)) out.headers.delete(name);
  return out;
}
