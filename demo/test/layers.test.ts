import { describe, expect, it } from 'vitest';
import { layerOf, parseCacheStatus, served } from '../src/layers.js';

const headers = (fields: Record<string, string>) => new Headers(fields);

describe('parseCacheStatus', () => {
  it('reads members in order with bare and valued parameters', () => {
    const members = parseCacheStatus('strata; fwd=uri-miss; fwd-status=200; stored, strata-sw; hit; ttl=42');
    expect(members.map((m) => m.cache)).toEqual(['strata', 'strata-sw']);
    expect(members[0]?.params.get('fwd')).toBe('uri-miss');
    expect(members[0]?.params.get('stored')).toBe(true);
    expect(members[1]?.params.get('ttl')).toBe('42');
  });

  it('keeps commas and semicolons inside quoted strings', () => {
    const members = parseCacheStatus('"Edge, Inc"; fwd=miss; detail="a; b, c", strata; hit');
    expect(members).toHaveLength(2);
    expect(members[0]?.cache).toBe('Edge, Inc');
    expect(members[0]?.params.get('detail')).toBe('a; b, c');
  });

  it('reads nothing from an empty or missing field', () => {
    expect(parseCacheStatus(null)).toEqual([]);
    expect(parseCacheStatus('  ')).toEqual([]);
  });
});

describe('served', () => {
  it('counts hits and stale copies served, not forwards', () => {
    const [hit, swr, sie, refetched] = parseCacheStatus(
      'a; hit, b; fwd=stale; ttl=-3; detail=stale-while-revalidate, c; fwd=stale; fwd-status=503; detail=stale-if-error, d; fwd=stale; fwd-status=200; stored',
    );
    expect([hit, swr, sie, refetched].map((m) => m && served(m))).toEqual([true, true, true, false]);
  });
});

describe('layerOf', () => {
  // What each response's headers say about the layer that answered it.
  it.each([
    [
      'names the service worker when its member is the last hit',
      { 'cache-status': 'strata; fwd=uri-miss; stored, strata-sw; hit; ttl=42', 'x-cache-level': 'MEMORY' },
      { layer: 'sw', detail: 'hit, ttl 42 s' },
    ],
    [
      'names the service worker serving a stale copy',
      { 'cache-status': 'strata; hit, strata-sw; fwd=stale; ttl=-3; detail=stale-while-revalidate' },
      { layer: 'sw', detail: 'stale-while-revalidate' },
    ],
    [
      'counts a stale server answer as the server',
      { 'cache-status': 'strata; hit; ttl=-5; detail=stale-while-revalidate' },
      { layer: 'server' },
    ],
    [
      'names the CDN when Varnish hit after a server miss',
      { 'cache-status': 'strata; fwd=uri-miss; stored, varnish; hit, strata-sw; fwd=uri-miss; stored' },
      { layer: 'cdn', label: 'CDN (varnish)' },
    ],
    [
      'does not take a CDN forward for a hit',
      { 'cache-status': 'strata; hit, varnish; fwd=miss, strata-sw; fwd=uri-miss' },
      { layer: 'server' },
    ],
    [
      'falls back to the origin when nobody served it',
      {
        'cache-status': 'strata; fwd=uri-miss; fwd-status=200; stored, strata-sw; fwd=uri-miss; fwd-status=200; stored',
        'x-cache': 'MISS',
      },
      { layer: 'origin', detail: 'strata fwd=uri-miss, stored → strata-sw fwd=uri-miss, stored' },
    ],
    [
      'treats a bypassed server cache as the origin',
      { 'cache-status': 'strata; fwd=bypass; detail=store-unavailable', 'x-cache': 'BYPASS' },
      { layer: 'origin' },
    ],
  ])('%s', (_name, fields, expected) => {
    expect(layerOf(headers(fields))).toMatchObject(expected);
  });

  it('names the server cache with its store when the worker forwarded', () => {
    const info = layerOf(
      headers({
        'cache-status': 'strata; hit; ttl=593, strata-sw; fwd=uri-miss; fwd-status=200; stored',
        'x-cache': 'HIT',
        'x-cache-level': 'REDIS',
      }),
    );
    expect(info).toEqual({ layer: 'server', label: 'Server (redis)', detail: 'hit, ttl 593 s' });
  });

  it('uses X-Cache when no strata member is present', () => {
    expect(layerOf(headers({ 'x-cache': 'HIT', 'x-cache-level': 'MEMORY' }))).toMatchObject({
      layer: 'server',
      label: 'Server (memory)',
    });
    expect(layerOf(headers({ 'x-cache': 'MISS' })).layer).toBe('origin');
  });

  it('answers origin for a response without any cache headers', () => {
    expect(layerOf(headers({}))).toEqual({ layer: 'origin', label: 'Origin', detail: 'no cache involved' });
  });
});
