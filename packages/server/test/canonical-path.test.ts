import { describe, expect, it } from 'vitest';
import { get, origin, strataPerTest } from './origin.js';

const make = strataPerTest();
const partition = (request: Request) => request.headers.get('authorization')?.replace(/^Bearer /, '') || undefined;

describe('one canonical path (RFC 3986 §6.2.2)', () => {
  it('gives a percent-encoded private path the private policy, its partition and Vary', async () => {
    const strata = make({ partition });
    const app = origin((request) => new Response(`me=${request.headers.get('authorization')}`));
    const alice = { authorization: 'Bearer alice' };
    const encoded = await strata.handle(get('/api/m%65', alice), app);
    expect(encoded.headers.get('cache-control')).toMatch(/^private, /);
    expect(encoded.headers.get('cdn-cache-control')).toBe('private, no-store');
    // The same entry as the plain spelling, in alice's partition only.
    const plain = await strata.handle(get('/api/me', alice), app);
    expect(plain.headers.get('x-cache')).toBe('HIT');
    expect(app.calls).toBe(1);
    const bob = await strata.handle(get('/api/%6De', { authorization: 'Bearer bob' }), app);
    expect(await bob.text()).toBe('me=Bearer bob');
  });

  it('keys and tags an encoded public path like the decoded one, so a purge of its tag reaches it', async () => {
    const strata = make();
    const app = origin();
    await strata.handle(get('/api/%75sers/3'), app);
    expect((await strata.handle(get('/api/users/3'), app)).headers.get('x-cache')).toBe('HIT');
    expect((await strata.handle(get('/api/%75%73ers/%33'), app)).headers.get('x-cache')).toBe('HIT');
    await strata.purge({ tags: ['user:3'] });
    const after = await strata.handle(get('/api/%75sers/3'), app);
    expect(after.headers.get('x-cache')).toBe('MISS');
    expect(app.calls).toBe(2);
    // A purge by key reaches every spelling too.
    await strata.purge({ keys: ['/api/users/%33'] });
    expect((await strata.handle(get('/api/users/3'), app)).headers.get('x-cache')).toBe('MISS');
  });

  it('never stores a path with an invalid escape, %00 or non-UTF-8 bytes, and says no-store at every level', async () => {
    const strata = make();
    for (const path of ['/api/users/%zz', '/api/users/a%00', '/api/users/%FF', '/api/files/%E0%A4%A']) {
      const app = origin(
        () =>
          new Response('x', {
            headers: { 'cache-control': 'public, max-age=600', 'cdn-cache-control': 'max-age=600' },
          }),
      );
      for (let i = 0; i < 2; i++) {
        const response = await strata.handle(get(path), app);
        expect(response.headers.get('cache-control'), path).toBe('no-store');
        expect(response.headers.get('cdn-cache-control'), path).toBe('no-store');
        expect(response.headers.get('surrogate-control'), path).toBe('no-store');
      }
      expect(app.calls, path).toBe(2);
    }
  });

  it('treats //-paths as their own paths: a miss, never an error', async () => {
    const strata = make();
    const app = origin();
    const response = await strata.handle(get('//api/users/1'), app);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-cache')).toBeNull();
    await expect(strata.purge({ keys: ['//api/users/1'] })).resolves.toBeDefined();
  });
});
