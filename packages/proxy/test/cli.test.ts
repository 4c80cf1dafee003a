import { describe, expect, it } from 'vitest';
import { run as strata } from '../../policy/src/cli.js';
import { run } from '../src/cli.js';
import { proxyConfig } from '../src/config.js';

const manifest = new URL('./fixtures/items.manifest.json', import.meta.url).pathname;

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { env, io: { out: (s) => out.push(s), err: (s) => err.push(s) } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('strata proxy flags', () => {
  it('--help explains every option and exits 0', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--manifest',
      '--upstream',
      '--port',
      '--host',
      '--redis-url',
      '--admin-token',
      '--origin',
      '--upstream-timeout',
      '--sw',
      '--trust-forwarded',
      '--respect-origin-cache-control',
    ])
      expect(out).toContain(flag);
    expect(out).toContain('strata proxy --manifest strata.manifest.json --upstream http://127.0.0.1:8000');
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['--manifest', manifest], /--upstream is required/],
    [['--upstream', 'http://127.0.0.1:8000'], /--manifest is required/],
    [
      ['-m', manifest, '-u', 'ftp://example.test'],
      /upstream ftp:\/\/example.test must be an http:\/\/ or https:\/\/ URL/,
    ],
    [['-m', manifest, '-u', 'http://u:p@example.test'], /must not carry a query, fragment or credentials/],
    [['-m', manifest, '-u', 'http://example.test', '--port', '80a'], /--port must be a whole number from 0 to 65535/],
    [['-m', manifest, '-u', 'http://example.test', '--admin-token', 'short'], /STRATA_ADMIN_TOKEN must be at least 16/],
    [['-m', manifest, '-u', 'http://example.test', '--sw', 'sw.js'], /--sw sw.js must be a path/],
    [['-m', manifest, '-u', 'http://example.test', '--redis-url', 'localhost:6379'], /must start with redis:\/\//],
    [['-m', manifest, '-u', 'http://example.test', 'extra'], /Unexpected argument 'extra'/],
  ])('%j exits 2 naming the problem', async (argv, message) => {
    const { code, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('strata proxy --help');
  });

  it('reports every problem at once', async () => {
    const { code, err } = await cli(['--port', '1x'], {});
    expect(code).toBe(2);
    expect(err).toMatch(/--manifest is required[\s\S]*--upstream is required[\s\S]*--port must be/);
  });

  it('reads the environment when a flag is absent; a flag wins over it', () => {
    const env = {
      STRATA_MANIFEST: manifest,
      STRATA_UPSTREAM: 'http://127.0.0.1:8000',
      PORT: '9000',
      REDIS_URL: 'redis://127.0.0.1:6379',
      STRATA_ADMIN_TOKEN: 'a-token-of-sixteen-chars',
      STRATA_SW: 'off',
      STRATA_TRUST_FORWARDED: 'true',
    };
    expect(proxyConfig([], env)).toEqual({
      manifest,
      upstream: 'http://127.0.0.1:8000',
      port: 9000,
      host: '0.0.0.0',
      redisUrl: 'redis://127.0.0.1:6379',
      adminToken: 'a-token-of-sixteen-chars',
      upstreamTimeoutMs: 30_000,
      serviceWorkerPath: false,
      trustForwarded: true,
      respectOriginCacheControl: false,
    });
    expect(proxyConfig(['--port', '9001', '-u', 'https://origin.test/base'], env)).toMatchObject({
      port: 9001,
      upstream: 'https://origin.test/base',
    });
  });

  it('an invalid manifest exits 1 listing its issues', async () => {
    const broken = new URL('../../policy/test/fixtures/broken.manifest.json', import.meta.url).pathname;
    const { code, err } = await cli(['-m', broken, '-u', 'http://127.0.0.1:9', '--sw', 'off']);
    expect(code).toBe(1);
    expect(err).toContain('4 issues');
  });

  it('is also `strata proxy` of the strata command', async () => {
    const out: string[] = [];
    const code = await strata(['proxy', '--help'], { out: (s) => out.push(s), err: () => {} });
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('Usage: strata proxy --manifest <file> --upstream <url>');
  });
});
