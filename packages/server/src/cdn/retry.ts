import type { CdnPurge, Purger, PurgerReport } from './types.js';

/**
 * Why a purge failed. Purgers reject with it; `withRetry` reads `retryable` and `retryAfterMs`
 * to decide whether and when to try again. Its message names the CDN, the operation, the HTTP
 * status and the API's own message, never a credential.
 */
export class PurgeError extends Error {
  override name = 'PurgeError';
  readonly code = 'E_PURGE_FAILED';
  /** The purger's name (`varnish`, `fastly`, `cloudflare`). */
  readonly cdn: string;
  /** HTTP status of the answer, absent when none arrived (network error, timeout). */
  readonly status: number | undefined;
  /** What the CDN asked for in `Retry-After`, in ms. */
  readonly retryAfterMs: number | undefined;
  /** Network errors, timeouts, 5xx and 429 are worth another attempt; other answers and bad input are not. */
  readonly retryable: boolean;

  constructor(
    cdn: string,
    message: string,
    options: { status?: number; retryAfterMs?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.cdn = cdn;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable ?? isRetryableStatus(options.status);
  }
}

/** Checks the name rather than the prototype, so it holds across realms and bundled copies. */
export function isPurgeError(error: unknown): error is PurgeError {
  return error instanceof Error && error.name === 'PurgeError';
}

function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status >= 500 || status === 429;
}

/** RFC 9110 §10.2.3: `Retry-After` is delay-seconds or an HTTP-date. Undefined when absent or malformed. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const MAX_DETAIL_CHARS = 500;

/** Removes every occurrence of each secret, in case an API echoes the credential back in its error. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}

export interface HttpFailure {
  status: number;
  statusText?: string;
  retryAfter?: string | null;
  /** The API's own message, if its body carried one. */
  detail?: string | undefined;
  /** Forces the retry decision, e.g. `false` for a 200 whose body says the purge was refused. */
  retryable?: boolean;
}

/** The error for an answer that is not a success: `fastly tag purge failed: HTTP 403 Forbidden: …`. */
export function httpFailure(
  cdn: string,
  operation: string,
  failure: HttpFailure,
  secrets: readonly string[] = [],
): PurgeError {
  const reason = failure.statusText ? ` ${failure.statusText}` : '';
  const detail = failure.detail ? `: ${redact(failure.detail, secrets).slice(0, MAX_DETAIL_CHARS)}` : '';
  const retryAfterMs = parseRetryAfter(failure.retryAfter);
  return new PurgeError(cdn, `${cdn} ${operation} failed: HTTP ${failure.status}${reason}${detail}`, {
    status: failure.status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(failure.retryable === undefined ? {} : { retryable: failure.retryable }),
  });
}

/** The error for a request that got no answer: refused, reset, timed out. Always retryable. */
export function networkFailure(
  cdn: string,
  operation: string,
  error: unknown,
  secrets: readonly string[] = [],
): PurgeError {
  // fetch says only "fetch failed"; the socket error is in `cause`.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const parts = [error instanceof Error ? error.message : String(error), cause?.message].filter(Boolean);
  return new PurgeError(cdn, redact(`${cdn} ${operation} failed: ${parts.join(': ')}`, secrets), { cause: error });
}

/** Bad input: fails at once, never retried. */
export function invalidPurge(cdn: string, message: string): PurgeError {
  return new PurgeError(cdn, `${cdn} purge refused: ${message}`, { retryable: false });
}

export interface RetryOptions {
  /** Attempts in all, the first included. Default 4. */
  attempts?: number;
  /** Backoff before the second attempt; doubles each time. Default 200 ms. */
  baseDelayMs?: number;
  /**
   * Longest wait between attempts. A `Retry-After` beyond it ends the retries: trying earlier
   * than the CDN asked would only be refused again. Default 5,000 ms.
   */
  maxDelayMs?: number;
  /** Called with every final report, success or not. An exception thrown here is ignored. */
  onReport?: (report: PurgerReport) => void;
  /** Source of jitter in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
}

/** A purger whose `purge` never rejects: it retries, then reports. */
export interface ReportingPurger {
  readonly name: string;
  purge(request: CdnPurge): Promise<PurgerReport>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function field(error: unknown, name: 'retryable' | 'retryAfterMs'): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[name] : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Retries a purger with exponential backoff and jitter, then reports. Network errors, 5xx and
 * 429 are retried (after `Retry-After` when the CDN sends one); other 4xx and refused input are
 * not. The returned `purge` never rejects, so a CDN outage never reaches the caller's request.
 * Errors from purgers other than Strata's are retried unless they carry `retryable: false`.
 */
export function withRetry(purger: Purger, options: RetryOptions = {}): ReportingPurger {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 4));
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? 200);
  const maxDelayMs = Math.max(0, options.maxDelayMs ?? 5_000);
  const random = options.random ?? Math.random;

  const report = (result: PurgerReport): PurgerReport => {
    try {
      options.onReport?.(result);
    } catch {
      // The report is returned anyway; a failing observer must not turn into a rejection.
    }
    return result;
  };

  /** Milliseconds to wait before the next attempt, or why there will be none. */
  const nextDelay = (error: unknown, attempt: number): { waitMs: number } | { stop: string | undefined } => {
    if (field(error, 'retryable') === false) return { stop: undefined };
    if (attempt >= attempts) return { stop: undefined };
    // "Equal jitter": between half and all of the exponential step, so retries from many
    // instances spread out but never collapse to zero.
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const backoff = step / 2 + random() * (step / 2);
    const retryAfterMs = field(error, 'retryAfterMs');
    if (typeof retryAfterMs === 'number') {
      if (retryAfterMs > maxDelayMs) {
        return {
          stop: `Retry-After asks for ${Math.ceil(retryAfterMs / 1000)} s, beyond maxDelayMs (${maxDelayMs} ms)`,
        };
      }
      return { waitMs: Math.max(retryAfterMs, backoff) };
    }
    return { waitMs: backoff };
  };

  return {
    name: purger.name,
    async purge(request) {
      for (let attempt = 1; ; attempt++) {
        try {
          const purged = await purger.purge(request);
          return report({
            purger: purger.name,
            ok: true,
            attempts: attempt,
            ...(purged === undefined ? {} : { purged }),
          });
        } catch (error) {
          const next = nextDelay(error, attempt);
          if ('stop' in next) {
            const message = next.stop ? `${describe(error)} (${next.stop})` : describe(error);
            return report({ purger: purger.name, ok: false, attempts: attempt, error: message });
          }
          await sleep(next.waitMs);
        }
      }
    },
  };
}

/** Sends one purge to every CDN in parallel; resolves to one report each, in order, and never rejects. */
export async function purgeAll(purgers: readonly ReportingPurger[], request: CdnPurge): Promise<PurgerReport[]> {
  return Promise.all(
    purgers.map(async (purger): Promise<PurgerReport> => {
      try {
        return await purger.purge(request);
      } catch (error) {
        // Only a purger not built by `withRetry` can get here.
        return { purger: purger.name, ok: false, attempts: 1, error: describe(error) };
      }
    }),
  );
}

/** `items` in batches of at most `size`: the CDN APIs cap how much one request may name. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
