import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, appWith, buildPackagesForPolicy, repo } from './helpers/app.js';

const recorder = fileURLToPath(new URL('./fixtures/record-modules.mjs', import.meta.url));

/** The modules plain Node loads for `specifiers`, resolved from the repo (the built packages). */
function modulesLoaded(...specifiers: string[]): string[] {
  return execFileSync(process.execPath, [recorder, ...specifiers], { cwd: repo, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

beforeAll(() => buildPackagesForPolicy(), 60_000);

describe('what the page and the worker import', () => {
  it.each(['@strata/policy', '@strata/client'])('%s loads from dist and reaches no zod module', (entry) => {
    const urls = modulesLoaded(entry);
    const name = entry.split('/')[1];
    expect(urls).toContain(`file://${repo}packages/${name}/dist/index.js`);
    expect(urls.filter((url) => /\/zod\//.test(url))).toEqual([]);
  });

  it('@strata/policy/validate does load zod (the recorder sees it)', () => {
    expect(modulesLoaded('@strata/policy/validate').some((url) => /\/node_modules\/zod\//.test(url))).toBe(true);
  });
});

describe('@strata/policy/validate in an app', () => {
  let without: App;
  let withZod: App;
  beforeAll(() => {
    without = appWith([]);
    withZod = appWith(['zod']);
  });
  afterAll(() => {
    without?.remove();
    withZod?.remove();
  });

  const script = `
    try {
      const { parseManifest } = await import('@strata/policy/validate');
      console.log(parseManifest({ version: 1, routes: [] }).version);
    } catch (error) {
      console.log(error.name, error.code, error.message);
    }`;

  it('without zod installed throws a StrataError saying to install zod', () => {
    const { stdout } = without.node('--input-type=module', '-e', script);
    expect(stdout).toMatch(/^StrataError E_PEER_MISSING .*install zod/);
  });

  it('with zod installed validates', () => {
    const { stdout } = withZod.node('--input-type=module', '-e', script);
    expect(stdout.trim()).toBe('1');
  });

  it('the root entry works without zod', () => {
    const root = `const { defineManifest, headersForRequest } = await import('@strata/policy');
      const m = defineManifest({ version: 1, routes: [{ match: '/a', policy: { ttl: 60, levels: ['browser'] } }] });
      console.log(headersForRequest(m, '/a', 'GET').headers['cache-control']);`;
    const { stdout, stderr } = without.node('--input-type=module', '-e', root);
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('private, max-age=60');
  });
});
