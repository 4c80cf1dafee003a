import { StrataError, type StrataErrorCode } from '@strata/policy';

/** Error codes of the service worker. */
export type SwErrorCode = Extract<StrataErrorCode, 'E_MESSAGE_INVALID' | 'E_SW_OPTIONS' | 'E_SW_FAILED'>;

/** A StrataError with a service-worker code; `isStrataError` recognises it across realms. */
export function swError(code: SwErrorCode, message: string, cause?: unknown): StrataError {
  return new StrataError(code, message, cause === undefined ? undefined : { cause });
}
