import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { StrataError } from '@strata/policy';
import type { Request as ExpressRequest, Response as ExpressResponse, NextFunction, RequestHandler } from 'express';
import { writesHeldBodies } from '../held-body.js';
import type { Strata } from '../strata.js';
import { serveFresh, writeAnswer } from './fast.js';
import { toRequest } from './node.js';
import {
  deferred,
  failResponse,
  headersFromNode,
  NULL_BODY_STATUSES,
  pipeResponse,
  type RawWriter,
  syncRequest,
} from './shared.js';

export interface StrataExpressOptions {
  /** Fixed origin for request URLs. Default: `req.protocol` and `req.host`, which follow Express's `trust proxy`. */
  origin?: string;
}

/**
 * Express 5 middleware: `strata.handle` around the rest of the chain. A cache hit answers without
 * running the chain; a miss runs it with the response captured into a Web Response for Strata,
 * and Strata's answer (with its headers) is what goes to the client.
 */
export function strataExpress(strata: Strata, options: StrataExpressOptions = {}): RequestHandler {
  return (req, res, next) => {
    const origin = options.origin ?? `${req.protocol}://${req.host ?? 'localhost'}`;
    // A fresh hit is written from the stored entry without building a Request; the rest of the
    // chain does not run, as on the full path.
    serveFresh(strata, req, origin, req.originalUrl, {
      write: (answer) => writeAnswer(res, answer),
      full: () => full(strata, req, res, next, origin),
      fail: (error) => void failResponse(res, error),
    });
  };
}

/** `strata.handle` around the rest of the chain: every request that is not a fresh hit. */
function full(strata: Strata, req: ExpressRequest, res: ExpressResponse, next: NextFunction, origin: string): void {
  let request: Request;
  try {
    request = writesHeldBodies(toRequest(req, { origin, url: req.originalUrl, response: res }));
  } catch {
    next(); // not representable as a Request: Express answers as it would without Strata
    return;
  }
  let capture: Capture | undefined;
  let answered = false;
  const runChain = (inner: Request): Promise<Response> => {
    // After Strata's answer went out (a background refresh of a stale entry) the chain cannot run
    // again on this request: the refresh fails, is counted, and a later miss refreshes the entry.
    if (answered || capture) {
      return Promise.reject(
        new StrataError('E_ADAPTER_CHAIN', '@strata/server/express: the chain runs at most once, before the answer'),
      );
    }
    capture = captureResponse(res, syncRequest(req, inner));
    next();
    return capture.response;
  };
  strata
    .handle(request, runChain)
    .then(
      async (response) => {
        // A refresh that started beside a stale answer finishes its headers before the answer goes out.
        if (capture) await capture.committed;
        answered = true;
        await pipeResponse(res, response, capture?.io);
      },
      async (error: unknown) => {
        answered = true;
        if (!capture) return next(error); // the chain has not run: Express's error handling answers
        await failResponse(res, error, capture.io);
      },
    )
    .catch((error: unknown) => failResponse(res, error, capture?.io));
}

interface Capture {
  /** What the rest of the chain answered, resolved when it commits its status and headers. */
  response: Promise<Response>;
  /** Settles once the chain committed its headers, or the connection closed. */
  committed: Promise<void>;
  /** The real writing methods, for Strata's answer while the chain may still write into the capture. */
  io: RawWriter;
}

const INTERCEPTED = ['writeHead', 'write', 'end'] as const;

/**
 * Captures what the rest of the chain writes to `res` (status, headers, body chunks) as a Web
 * Response, by overriding writeHead/write/end on this response object only; they are restored
 * when the chain ends or the connection closes. The captured headers are removed from `res`, so
 * Strata's answer replaces them. `write` honours backpressure: it returns false while Strata has
 * not read what was written, and 'drain' follows.
 */
function captureResponse(res: ServerResponse, onDone: () => void): Capture {
  // Fields set before the chain ran (X-Powered-By, CORS, a request id) belong to this request, not
  // to the origin's answer: they stay on `res`, out of what Strata may store and replay to others.
  const before = new Map(res.getHeaderNames().map((name) => [name, res.getHeader(name)]));
  const saved = INTERCEPTED.map((name) => [name, Object.getOwnPropertyDescriptor(res, name)] as const);
  const { writeHead, write, end } = res;
  const io: RawWriter = {
    writeHead: (status, headers) => Reflect.apply(writeHead, res, [status, headers]),
    write: (chunk) => Reflect.apply(write, res, [chunk]) as boolean,
    end: (chunk) => Reflect.apply(end, res, chunk ? [chunk] : []),
  };

  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let needDrain = false;
  let closed = false; // no more chunks: ended, cancelled by Strata, or a null-body status
  let finished = false;
  const drain = () => {
    if (!needDrain) return;
    needDrain = false;
    res.emit('drain');
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      pull: drain,
      cancel: () => {
        closed = true;
        drain();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );

  const response = deferred<Response>();
  const committed = deferred<void>();
  let isCommitted = false;
  const commit = () => {
    if (isCommitted) return;
    isCommitted = true;
    const status = res.statusCode;
    const fields: OutgoingHttpHeaders = {};
    for (const name of res.getHeaderNames()) {
      const value = res.getHeader(name);
      if (value === undefined || before.get(name) === value) continue;
      fields[name] = value;
      res.removeHeader(name);
    }
    const headers = headersFromNode(fields);
    if (NULL_BODY_STATUSES.has(status)) closed = true;
    try {
      response.resolve(new Response(closed ? null : body, { status, headers }));
    } catch (error) {
      response.reject(error); // e.g. a status outside 200–599
    }
    committed.resolve();
  };
  const push = (chunk: unknown, encoding: unknown) => {
    if (closed || chunk === undefined || chunk === null) return;
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : (chunk as Uint8Array);
    if (bytes.byteLength > 0) controller.enqueue(bytes);
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    for (const [name, descriptor] of saved) {
      if (descriptor) Object.defineProperty(res, name, descriptor);
      else delete (res as unknown as Record<string, unknown>)[name];
    }
    onDone();
  };
  const callback = (args: unknown[]) => args.find((arg) => typeof arg === 'function') as (() => void) | undefined;

  Object.assign(res, {
    writeHead(status: number, ...rest: unknown[]) {
      res.statusCode = status;
      const fields = typeof rest[0] === 'string' ? rest[1] : rest[0]; // (status, message?, headers?)
      if (Array.isArray(fields)) {
        for (let i = 0; i + 1 < fields.length; i += 2) res.appendHeader(String(fields[i]), String(fields[i + 1]));
      } else if (fields && typeof fields === 'object') {
        for (const [name, value] of Object.entries(fields)) if (value !== undefined) res.setHeader(name, value);
      }
      commit();
      return res;
    },
    write(chunk: unknown, ...rest: unknown[]) {
      commit();
      push(chunk, rest[0]);
      const cb = callback(rest);
      if (cb) process.nextTick(cb);
      if (closed || (controller.desiredSize ?? 1) > 0) return true;
      needDrain = true;
      return false;
    },
    end(...args: unknown[]) {
      commit();
      push(typeof args[0] === 'function' ? undefined : args[0], args[1]);
      if (!closed) {
        closed = true;
        controller.close();
      }
      const cb = callback(args);
      if (cb) res.once('finish', cb);
      finish();
      return res;
    },
  });

  res.once('close', () => {
    if (finished) return;
    const error = new StrataError('E_CONNECTION_CLOSED', 'the connection closed before the response was complete');
    if (!isCommitted) {
      isCommitted = true;
      response.reject(error);
      committed.resolve();
    } else if (!closed) {
      closed = true;
      controller.error(error);
    }
    finish();
  });

  return { response: response.promise, committed: committed.promise, io };
}
