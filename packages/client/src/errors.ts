import { StrataError, type StrataErrorCode } from '@strata/policy';

/** Error codes of the page client. */
export type ClientErrorCode = Extract<
  StrataErrorCode,
  'E_SW_TIMEOUT' | 'E_SW_UNAVAILABLE' | 'E_SW_REPLY' | 'E_STREAM_FAILED'
>;

/** A StrataError with a client code (or one relayed from the worker); `isStrataError` recognises it across realms. */
export function clientError(code: StrataErrorCode, message: string, cause?: unknown): StrataError {
  return new StrataError(code, message, cause === undefined ? undefined : { cause });
}
