/**
 * One purge stream per browser, not per tab: over HTTP/1.1 each open stream holds one of the
 * ~6 connections a browser allows per host (HTML §9.2.7), so tabs that each held one would stall
 * every other request. Tabs elect a leader with the Web Locks API; only the leader holds the
 * stream. The lock is released when the leader closes (or its tab goes away), and the next tab
 * waiting for it takes over.
 */
export interface Leadership {
  readonly leading: boolean;
  /** Stops leading, or stops waiting to lead. */
  release(): void;
}

/** Calls `lead` when this tab becomes the leader; the function it returns is called when it stops. */
export function electLeader(name: string, lead: () => () => void): Leadership {
  let leading = false;
  let stop: (() => void) | undefined;
  let release: (() => void) | undefined;
  const abort = new AbortController();
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) {
    console.warn('[strata] no Web Locks API: this tab holds its own purge stream');
    leading = true;
    stop = lead();
  } else {
    locks
      .request(name, { signal: abort.signal }, () => {
        if (abort.signal.aborted) return undefined;
        leading = true;
        stop = lead();
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      })
      .catch(() => undefined); // aborted while waiting
  }
  return {
    get leading() {
      return leading;
    },
    release() {
      abort.abort();
      leading = false;
      stop?.();
      release?.();
    },
  };
}
