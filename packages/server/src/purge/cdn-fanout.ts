import { purgeAll, type ReportingPurger } from '../cdn/retry.js';
import type { CdnPurge, PurgerReport } from '../cdn/types.js';

/** Reports kept for `stats().cdn`: the most recent ones. */
const MAX_REPORTS = 100;

/**
 * Sends each purge to every CDN purger (each wrapped in `withRetry`, so a failure never reaches the
 * caller) in the background, and keeps the latest reports.
 */
export class CdnFanout {
  readonly #purgers: readonly ReportingPurger[];
  readonly #track: (work: Promise<unknown>) => void;
  /** The latest reports, oldest first, at most 100. */
  readonly reports: PurgerReport[] = [];

  constructor(purgers: readonly ReportingPurger[], track: (work: Promise<unknown>) => void) {
    this.#purgers = purgers;
    this.#track = track;
  }

  /** Starts the purge at every CDN; nothing is sent when there are no purgers or nothing to drop. */
  send(request: CdnPurge & { all: boolean }): void {
    if (this.#purgers.length === 0 || (request.tags.length === 0 && request.urls.length === 0 && !request.all)) return;
    const work = purgeAll(this.#purgers, request).then((reports) => {
      this.reports.push(...reports);
      if (this.reports.length > MAX_REPORTS) this.reports.splice(0, this.reports.length - MAX_REPORTS);
    });
    this.#track(work);
  }
}
