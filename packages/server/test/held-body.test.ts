import { defineManifest, serverCache } from '@strata/policy';
import { createStrata } from '@strata/server';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyResponse, heldBody, writesHeldBodies } from '../src/held-body.js';

const manifest = defineManifest({ version: 1, routes: [{ match: '/items', policy: serverCache(60) }] });
const origin = () => new Response('{"items":[1,2,3]}', { headers: { 'content-type': 'application/json' } });

describe('bodies held for the adapters that write them', () => {
  const strata = createStrata({ manifest });
  afterAll(() => strata.close());

  it('a Request nobody marked gets ordinary Responses: the body is a stream anyone can read', async () => {
    for (const cache of ['MISS', 'HIT']) {
      const response = await strata.handle(new Request('http://app.test/items'), origin);
      expect(response.headers.get('x-cache')).toBe(cache);
      expect(heldBody(response)).toBeUndefined();
      expect(await response.text()).toBe('{"items":[1,2,3]}');
    }
  });

  it('an adapter’s Request gets answers without a stream, their bytes held', async () => {
    for (const cache of ['MISS', 'HIT']) {
      const response = await strata.handle(writesHeldBodies(new Request('http://app.test/items?held')), origin);
      expect(response.headers.get('x-cache')).toBe(cache);
      expect(response.body).toBeNull();
      expect(new TextDecoder().decode(heldBody(response))).toBe('{"items":[1,2,3]}');
    }
  });

  it('a null body (HEAD, 304, 204) is never held', () => {
    const request = writesHeldBodies(new Request('http://app.test/items', { method: 'HEAD' }));
    const response = bodyResponse(request, null, { status: 200 });
    expect(heldBody(response)).toBeUndefined();
  });
});
