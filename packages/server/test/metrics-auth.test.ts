import { describe, expect, it } from 'vitest';
import { strataPerTest } from './origin.js';

const make = strataPerTest();
const scrape = (headers: Record<string, string> = {}) => new Request('http://app.test/metrics', { headers });

describe('/metrics access', () => {
  it('asks for the admin token when admin auth is configured', async () => {
    const strata = make({ admin: { token: 'secret-token' } });
    const anonymous = await strata.metrics(scrape());
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('E_UNAUTHORIZED');
    expect((await strata.metrics(scrape({ authorization: 'Bearer wrong' }))).status).toBe(403);
    expect((await strata.metrics()).status).toBe(401); // no request: no credentials
    const allowed = await strata.metrics(scrape({ authorization: 'Bearer secret-token' }));
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('strata_cache_lookups_total');
  });

  it('uses an authorize() check the same way', async () => {
    const strata = make({ admin: { authorize: (request) => request.headers.get('x-ops') === 'yes' } });
    expect((await strata.metrics(scrape())).status).toBe(403);
    expect((await strata.metrics(scrape({ 'x-ops': 'yes' }))).status).toBe(200);
  });

  it('stays open with metrics.public, or when no admin auth is configured', async () => {
    const opened = make({ admin: { token: 'secret-token' }, metrics: { public: true } });
    expect((await opened.metrics(scrape())).status).toBe(200);
    const plain = make();
    expect((await plain.metrics(scrape())).status).toBe(200);
    expect((await plain.metrics()).status).toBe(200);
  });
});
