import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modulesLoaded } from '../../../test/modules-loaded.js';
import { type App, appWith, buildPackagesForPolicy, repo } from './helpers/app.js';

/** The modules plain Node loads for `specifiers`, resolved from the repo (the built packages). */
const loadedFor = (...specifiers: string[]): string[] =>
  modulesLoaded(specifiers.map((specifier) => `await import('${specifier}');`).join('\n'), repo);

beforeAll(() => buildPackagesForPolicy(), 60_000);

describe('what the page and the worker import', () => {
  it.each(['@strata/policy', '@strata/client'])('%s loads from dist and reaches no zod module', (entry) => {
    const urls = loadedFor(entry);
    const name = entry.split('/')[1];
    expect(urls).toContain(`file://${repo}packages/${name}/dist/index.js`);
    expect(urls.filter((url) => /\/zod\//.test(url))).toEqual([]);
  });

  it('@strata/policy/validate does load zod (the recorder sees it)', () => {
    expect(loadedFor('@strata/policy/validate').some((url) => /\/node_modules\/zod\//.test(url))).toBe(true);
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
