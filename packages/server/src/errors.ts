import { STRATA_ERRORS, StrataError, type StrataErrorCode } from '@strata/policy';

/**
 * The codes the server's HTTP endpoints (admin API, purge stream, adapters) answer with beside
 * the StrataError codes: code → meaning → HTTP status. Every `{ "error": { "code" } }` body the
 * server writes carries a code of this table or of `STRATA_ERRORS`.
 */
export const SERVER_ERRORS = {
  E_BAD_REQUEST: { meaning: 'the request is malformed (body, key, Host or target)', status: 400 },
  E_BAD_JSON: { meaning: 'the body is not valid JSON', status: 400 },
  E_BAD_RESUME_ID: { meaning: 'Last-Event-ID or ?since= is not a purge id', status: 400 },
  E_UNAUTHORIZED: { meaning: 'no admin token was sent', status: 401 },
  E_FORBIDDEN: { meaning: 'the admin token is wrong or not allowed this call', status: 403 },
  E_NOT_FOUND: { meaning: 'no such endpoint, entry, or the admin API is off', status: 404 },
  E_METHOD_NOT_ALLOWED: { meaning: 'the endpoint exists for other methods', status: 405 },
  E_BODY_TOO_LARGE: { meaning: 'the body exceeds the endpoint limit', status: 413 },
  E_UNSUPPORTED_MEDIA_TYPE: { meaning: 'the body is not application/json', status: 415 },
  E_TOO_MANY_STREAMS: { meaning: 'the purge stream is at maxConnections', status: 503 },
} as const satisfies Record<string, { meaning: string; status: number }>;

export type ServerErrorCode = keyof typeof SERVER_ERRORS;

/** A code an HTTP error body may carry. */
export type HttpErrorCode = ServerErrorCode | StrataErrorCode;

/** The status a code answers with: its table's, else 400 (the caller sent something wrong). */
export function statusOf(code: HttpErrorCode): number {
  if (code in SERVER_ERRORS) return SERVER_ERRORS[code as ServerErrorCode].status;
  const entry = STRATA_ERRORS[code as StrataErrorCode];
  return 'status' in entry ? entry.status : 400;
}

/**
 * A request the server refuses before handling it: a bad admin body or key, a Node request no
 * URL can be built from. `status`/`statusCode` follow the code's table entry, so Express and
 * Fastify error handlers answer with it too.
 */
export class BadRequestError extends StrataError<ServerErrorCode> {
  readonly status: number;
  readonly statusCode: number;

  constructor(code: ServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = statusOf(code);
    this.statusCode = this.status;
  }
}
