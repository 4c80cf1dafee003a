import type { AnswerFromCache, AnswerNow } from './fast-hit.js';
import type { Strata } from './strata.js';

/** What adapters and the SQL query cache reach in a Strata instance; not part of the app API. */
export interface StrataInternals {
  /**
   * A fresh server-cache hit (public or private route) as plain data, from the method, the
   * absolute URL and a header reader, without building a Request or Response. Undefined means
   * "use `handle`", which answers every case.
   */
  answerFromCache: AnswerFromCache;
  /**
   * The same without a promise, where the store holds the entry in this process: the answer, or
   * null when there is none (use `handle`); undefined when only `answerFromCache` can tell.
   */
  answerNow: AnswerNow;
  /** Lets the SQL query cache report in the admin API's `/query-stats`. */
  useQueryStats(provider: () => unknown): void;
}

// Keyed weakly by instance: an instance that is dropped takes its entry with it.
const internals = new WeakMap<Strata, StrataInternals>();

/** Called once by `createStrata` for the instance it returns. */
export function attachInternals(strata: Strata, parts: StrataInternals): Strata {
  internals.set(strata, parts);
  return strata;
}

/** The internals of an instance made by `createStrata`; undefined for any other object. */
export function internalsOf(strata: Strata): StrataInternals | undefined {
  return internals.get(strata);
}
