import type { IncomingMessage, OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { StoredAnswer } from '../cache/response-cache.js';
import { internalsOf, type StrataInternals } from '../internals.js';
import type { Strata } from '../strata.js';

// The fast path the node, Express and Fastify adapters share. Internal: not a subpath export.

/**
 * A request field as `Headers.get` gives it (every line of that name, joined with ", "), or null.
 * Read from the raw lines, so Node's own handling of repeated fields (it drops a second
 * Authorization, joins Cookie with ";") cannot make it differ from the Request the full path builds.
 */
export function rawHeader(req: IncomingMessage, name: string): string | null {
  const raw = req.rawHeaders;
  let value: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i] as string;
    if (field.length !== name.length || field.toLowerCase() !== name) continue;
    value = value === null ? (raw[i + 1] as string) : `${value}, ${raw[i + 1]}`;
  }
  return value;
}

// An origin as `new URL(origin).origin` gives it (what `toRequest` uses), or null when it is not
// one: worked out once per origin string, bounded, cleared whole when full.
const origins = new Map<string, string | null>();
const MAX_ORIGINS = 1_000;

function canonicalOrigin(origin: string): string | null {
  let known = origins.get(origin);
  if (known !== undefined) return known;
  try {
    known = new URL(origin).origin;
  } catch {
    known = null;
  }
  if (origins.size >= MAX_ORIGINS) origins.clear();
  origins.set(origin, known);
  return known;
}

/** What the fast path looks a request up by: the instance's internals, the absolute URL, a header reader. */
interface FastLookup {
  fast: StrataInternals;
  method: string;
  url: string;
  header: (name: string) => string | null;
}

/** The request's fast-path lookup, or undefined when only the full path answers. */
function fastLookup(strata: Strata, req: IncomingMessage, origin: string, target: string): FastLookup | undefined {
  const fast = internalsOf(strata);
  const method = req.method;
  if (!fast || (method !== 'GET' && method !== 'HEAD') || !target.startsWith('/')) return undefined;
  const base = canonicalOrigin(origin);
  if (base === null) return undefined;
  return { fast, method, url: `${base}${target}`, header: (name) => rawHeader(req, name) };
}

/**
 * A fresh hit: at once where the store holds the entry in this process (the memory store, the
 * L1) and the route is public, else through the promise-based lookup; null when the full path
 * must answer. Failures are left to the full path, which meets them again and reports them.
 */
function lookUp(lookup: FastLookup | undefined): StoredAnswer | null | Promise<StoredAnswer | undefined> {
  if (!lookup) return null;
  const { fast, method, url, header } = lookup;
  try {
    const now = fast.answerNow(method, url, header);
    if (now !== undefined) return now;
    // e.g. `partition` threw: the full path asks it again and reports
    return fast.answerFromCache(method, url, header).catch(none);
  } catch {
    return null;
  }
}

/**
 * A fresh hit for `req` as plain data, or undefined when the full path must answer: not a GET or
 * HEAD, a target that is not a path, an origin that is not one, a miss, or any failure.
 * `origin` and `target` are what the adapter's `toRequest` call would use.
 */
export async function fastAnswer(
  strata: Strata,
  req: IncomingMessage,
  origin: string,
  target: string,
): Promise<StoredAnswer | undefined> {
  return (await lookUp(fastLookup(strata, req, origin, target))) ?? undefined;
}

/**
 * The fast path as an adapter takes it: a fresh hit is handed to `write` (within this turn when an
 * in-process tier holds it), anything else to `full`; a failure while writing goes to `fail`.
 */
export function serveFresh(
  strata: Strata,
  req: IncomingMessage,
  origin: string,
  target: string,
  on: { write(answer: StoredAnswer): void; full(): void; fail(error: unknown): void },
): void {
  const answer = lookUp(fastLookup(strata, req, origin, target));
  if (answer instanceof Promise) {
    void answer.then((found) => (found ? on.write(found) : on.full())).catch((error: unknown) => on.fail(error));
  } else if (answer === null) {
    on.full();
  } else {
    try {
      on.write(answer);
    } catch (error) {
      on.fail(error);
    }
  }
}

const none = () => undefined;

/** Writes a fresh hit: its header block as is (fields already set on `res` are kept), then the body in one write. */
export function writeAnswer(res: ServerResponse, answer: StoredAnswer): void {
  res.writeHead(answer.status, answer.fields as OutgoingHttpHeader[]);
  res.end(answer.body ?? undefined);
}
