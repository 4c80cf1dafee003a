import { describe, expect, it } from 'vitest';
import { strataPerTest } from './origin.js';

const make = strataPerTest();

describe('strata.warm', () => {
  it('runs a job, and a run asked for while one is going joins it', async () => {
    const strata = make();
    let calls = 0;
    let release: () => void = () => {};
    strata.warm.register('users', async () => {
      calls++;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const first = strata.warm.run('users');
    const second = strata.warm.run('users');
    expect(strata.warm.status()[0]?.running).toBe(true);
    release();
    expect(await first).toBe(await second);
    expect(calls).toBe(1);
    expect(strata.warm.status()[0]).toMatchObject({ name: 'users', running: false, runs: 1, failures: 0 });
  });

  it('keeps failures with their time and goes on', async () => {
    const strata = make();
    let fail = true;
    strata.warm.register('flaky', async () => {
      if (fail) throw new Error('origin down');
    });
    const failed = await strata.warm.run('flaky');
    expect(failed).toMatchObject({ ok: false, error: 'origin down' });
    fail = false;
    expect((await strata.warm.run('flaky')).ok).toBe(true);
    const status = strata.warm.status()[0];
    expect(status).toMatchObject({
      runs: 2,
      failures: 1,
      lastRun: { ok: true },
      lastFailure: { error: 'origin down' },
    });
    expect(Date.parse(status?.lastFailure?.startedAt ?? '')).not.toBeNaN();
  });

  it('runs onStartup jobs on start, and refuses unknown or duplicate names', async () => {
    const strata = make();
    const ran: string[] = [];
    strata.warm.register('a', async () => void ran.push('a'), { onStartup: true });
    strata.warm.register('b', async () => void ran.push('b'));
    await strata.warm.start();
    expect(ran).toEqual(['a']);
    await expect(strata.warm.run('nope')).rejects.toThrow("no warm job named 'nope'");
    await expect(strata.warm.run('nope')).rejects.toMatchObject({ code: 'E_WARM_JOB_UNKNOWN' });
    expect(() => strata.warm.register('a', async () => {})).toThrow('already registered');
  });

  it('fills the cache through the app so the first user request is a hit', async () => {
    const strata = make();
    const app = async () => new Response('warm');
    strata.warm.register('users', async () => {
      await strata.handle(new Request('http://app.test/api/users/1'), app);
    });
    await strata.warm.run('users');
    const response = await strata.handle(new Request('http://app.test/api/users/1'), app);
    expect(response.headers.get('x-cache')).toBe('HIT');
  });
});
