import { execFile } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';
import { type App, appWith, buildPackagesForPolicy } from './helpers/app.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

// TypeScript manifests import '@strata/policy', which Node resolves to the built package.
beforeAll(() => buildPackagesForPolicy(), 60_000);

describe('strata check', () => {
  it('validates a TypeScript manifest and prints routes and headers', async () => {
    const { code, out, err } = await cli('check', fixture('shop.manifest.ts'));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('valid, version shop-1, 4 routes, maxUnpurgeableAge 60s');
    expect(out).toMatch(
      /1\s+\/api\/v1\/users\/:id\s+GET,HEAD\s+browser,server\s+600\/-\/600\s+-\/-\s+public\s+users user:\{id\}/,
    );
    expect(out).toMatch(/3\s+\/auth\/\*\s+GET,POST\s+none \(no-store\)/);
    expect(out).toContain('cache-control: max-age=604800, immutable');
    expect(out).toContain('cdn-cache-control: public, max-age=300, stale-while-revalidate=60');
  });

  it.each([
    ['shop.manifest.json', 'version 7, 1 route'],
    ['shop.manifest.mjs', 'version js, 1 route'],
  ])('loads %s', async (name, summary) => {
    const { code, out } = await cli('check', fixture(name));
    expect(code).toBe(0);
    expect(out).toContain(summary);
  });

  it('lists every issue and exits 1 for an invalid manifest', async () => {
    const { code, err } = await cli('check', fixture('broken.manifest.json'));
    expect(code).toBe(1);
    expect(err).toContain('4 issues');
    expect(err).toContain('routes[0].policy.tags[0]: ');
    expect(err).toContain('routes[0].policy.ttl: ttl must not be negative');
    expect(err).toContain('routes[1].match: ');
    expect(err).toContain("routes[1].policy.levels: a private policy cannot include the 'cdn' level");
  });

  it('catches what defineManifest let through', async () => {
    const { code, err } = await cli('check', fixture('private-cdn.manifest.ts'));
    expect(code).toBe(1);
    expect(err).toContain('routes[0].policy.levels');
  });

  it('lists per tag the routes that carry it and the writes that purge it, and warns about the gaps', async () => {
    const { code, out, err } = await cli('check', fixture('writes.manifest.json'));
    expect(err).toBe('');
    expect(code).toBe(0);
    const line = (tag: string) => out.split('\n').find((l) => l.startsWith(`${tag} `)) ?? '';
    // user:{id} and user:{userId} expand to the same tags: one row.
    expect(line('user:{id}')).toMatch(/\/api\/users\/:id\s+PUT,DELETE \/api\/users\/:userId$/);
    expect(line('users')).toMatch(/\/api\/users\s+PUT,DELETE \/api\/users\/:userId$/);
    expect(line('stats')).toMatch(/\/api\/stats\s+-$/);
    expect(out).toContain('PUT,DELETE /api/users/:userId: user:{userId} users me profile:{userId}');
    expect(out).toContain('3 warnings:');
    expect(out).toMatch(/warning: tag 'stats' \(\/api\/stats\): no write rule purges it/);
    expect(out).toMatch(
      /warning: PUT,DELETE \/api\/users\/:userId purges 'profile:\{userId\}', which no route carries/,
    );
    expect(out).toMatch(/warning: PUT,DELETE \/api\/users\/:userId purges 'me', which only private routes carry/);
  });

  it('refuses a write rule naming a param its pattern lacks, or on a route with no unsafe method', async () => {
    const { code, err } = await cli('check', fixture('broken-writes.manifest.json'));
    expect(code).toBe(1);
    expect(err).toContain(
      "routes[0].invalidates[1]: tag 'user:{userId}' names {userId}, but '/api/users/:id' has no :userId param",
    );
    expect(err).toContain('routes[1].invalidates: write rules apply to unsafe methods');
  });

  it.each([
    ['missing.manifest.json', /cannot load .*missing\.manifest\.json/],
    ['syntax-error.manifest.json', /syntax-error\.manifest\.json' is not valid JSON/],
    ['no-export.manifest.mjs', /exports no manifest/],
    ['../cli.test.ts.txt', /cannot load/],
  ])('exits 2 with a clear message when %s cannot be loaded', async (name, message) => {
    const { code, err } = await cli('check', fixture(name));
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});

describe('strata headers', () => {
  it('prints the route, params, tags and headers of one request', async () => {
    const { code, out } = await cli('headers', fixture('shop.manifest.ts'), '/api/v1/users/42?fields=name');
    expect(code).toBe(0);
    expect(out).toContain('route:  [1] /api/v1/users/:id');
    expect(out).toContain('params: id=42');
    expect(out).toContain('tags:   users user:42');
    expect(out).toContain('cache-control: private, max-age=60');
  });

  it('takes --method', async () => {
    const { code, out } = await cli('headers', fixture('shop.manifest.ts'), '/auth/login', '--method', 'post');
    expect(code).toBe(0);
    expect(out).toContain('cache-control: no-store');
  });

  it('exits 1 when no route matches', async () => {
    const { code, out } = await cli('headers', fixture('shop.manifest.ts'), '/nowhere');
    expect(code).toBe(1);
    expect(out).toContain('no route matches GET /nowhere');
  });
});

describe('usage', () => {
  it.each([[[]], [['check']], [['frobnicate', 'x']], [['headers', 'm.json']], [['check', 'a', 'b']], [['--bogus']]])(
    '%j exits 2 with the usage',
    async (argv) => {
      const { code, err } = await cli(...argv);
      expect(code).toBe(2);
      expect(err).toContain('Usage:');
    },
  );

  it('--help exits 0', async () => {
    const { code, out } = await cli('--help');
    expect(code).toBe(0);
    expect(out).toContain('strata check <manifest>');
  });
});

describe('the strata bin', () => {
  const bin = fileURLToPath(new URL('../bin/strata.js', import.meta.url));
  const exec = promisify(execFile);

  it('runs as a command with the right exit codes', async () => {
    const ok = await exec('node', [bin, 'check', fixture('shop.manifest.ts')], { cwd: root });
    expect(ok.stdout).toContain('valid, version shop-1');
    const failed = await exec('node', [bin, 'check', fixture('broken.manifest.json')], { cwd: root }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect('code' in failed && failed.code).toBe(1);
    expect('stderr' in failed && failed.stderr).toContain('routes[0].policy.ttl');
  });
});

describe('the strata bin with only the peers it needs', () => {
  const apps: App[] = [];
  afterAll(() => {
    for (const app of apps) app.remove();
  });
  /** `strata check <fixture>` in an app where @strata/policy is installed with only `peers`. */
  function check(peers: readonly ('zod' | 'tsx')[], name: string) {
    const app = appWith(peers);
    apps.push(app);
    copyFileSync(fixture(name), join(app.dir, name));
    return app.node('node_modules/@strata/policy/bin/strata.js', 'check', name);
  }

  it.each(['shop.manifest.json', 'shop.manifest.mjs'])('checks %s with zod and no tsx', (name) => {
    const { status, stdout, stderr } = check(['zod'], name);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('valid, version');
  });

  it('says to install tsx for a TypeScript manifest when tsx is missing', () => {
    const { status, stdout, stderr } = check(['zod'], 'shop.manifest.ts');
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('strata: loading a TypeScript manifest needs tsx: npm install -D tsx');
  });

  it('loads a TypeScript manifest when tsx is installed', () => {
    const { status, stdout } = check(['zod', 'tsx'], 'shop.manifest.ts');
    expect(status).toBe(0);
    expect(stdout).toContain('valid, version shop-1');
  });

  it('says to install zod when it is missing, whatever the manifest', () => {
    const { status, stderr } = check([], 'shop.manifest.json');
    expect(status).toBe(2);
    expect(stderr.trim()).toBe('strata: validating a manifest needs zod: npm install -D zod');
  });
});
