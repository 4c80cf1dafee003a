import { StrataError } from '@strata/policy';
import { describe, expect, it } from 'vitest';
import { clock, get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();

/** A fake origin by necessity: no real server can be made to never answer on cue. */
function hungOrigin() {
  const handler = origin();
  handler.respond = () => new Promise<Response>(() => {});
  return handler;
}

describe('origin timeout (fake origin that never answers)', () => {
  it('releases every waiter with a 504 E_ORIGIN_TIMEOUT, and the next request tries the origin again', async () => {
    const strata = make({ originTimeoutMs: 20 });
    const hung = hungOrigin();
    const waiters = await Promise.all(Array.from({ length: 5 }, () => strata.handle(get('/api/users/1'), hung)));
    expect(hung.calls).toBe(1); // one flight for the five
    expect(waiters.map((r) => r.status)).toEqual([504, 504, 504, 504, 504]);
    const body = (await waiters[0]?.json()) as { error: { code: string } };
    expect(body.error.code).toBe('E_ORIGIN_TIMEOUT');
    expect(waiters[0]?.headers.get('cache-status')).toContain('detail=origin-timeout');
    expect(waiters[0]?.headers.get('cache-control')).toBe('no-store');

    // The key was released: the next request reaches a working origin and is stored.
    const working = origin();
    const next = await strata.handle(get('/api/users/1'), working);
    expect(next.status).toBe(200);
    expect(working.calls).toBe(1);
    expect((await strata.handle(get('/api/users/1'), working)).headers.get('x-cache')).toBe('HIT');
  });

  it('serves the stale-if-error copy to every waiter when the policy allows one', async () => {
    const time = clock();
    const strata = make({ now: time.now, originTimeoutMs: 20 });
    await strata.handle(get('/api/users/9'), origin());
    time.advance(120); // past max-age 60, within staleIfError 300
    const hung = hungOrigin();
    const waiters = await Promise.all(Array.from({ length: 3 }, () => strata.handle(get('/api/users/9'), hung)));
    expect(hung.calls).toBe(1);
    for (const response of waiters) {
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-status')).toContain('detail=stale-if-error');
      expect(await response.text()).toBe('body 1');
    }
    expect((await strata.stats()).totals['error-fallback']).toBe(3);
  });

  it('rejects cached() callers with E_ORIGIN_TIMEOUT and lets the next call load again', async () => {
    const strata = make({ originTimeoutMs: 20 });
    let calls = 0;
    const never = () => {
      calls++;
      return new Promise<number>(() => {});
    };
    const results = await Promise.allSettled([strata.cached('k', never), strata.cached('k', never)]);
    expect(calls).toBe(1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(StrataError);
      expect((reason as StrataError).code).toBe('E_ORIGIN_TIMEOUT');
    }
    expect(await strata.cached('k', async () => 42)).toBe(42);
  });
});
