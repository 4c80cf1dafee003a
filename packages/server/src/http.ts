import { type HttpErrorCode, statusOf } from './errors.js';

/** A JSON answer that no cache keeps. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

/**
 * The error shape of every Strata HTTP endpoint: `{ "error": { "code", "message" } }`, with the
 * status the code's table gives.
 */
export function jsonError(code: HttpErrorCode, message: string, headers: Record<string, string> = {}): Response {
  return json(statusOf(code), { error: { code, message } }, headers);
}
