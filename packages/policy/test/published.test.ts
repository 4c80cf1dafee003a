import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { modulesLoaded } from '../../../test/modules-loaded.js';
import { buildPackagesForPolicy, repo } from './helpers/app.js';

/** Every file path an `exports` map points at, whatever the condition. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return value && typeof value === 'object' ? Object.values(value).flatMap(targets) : [];
}

beforeAll(buildPackagesForPolicy, 60_000);

// The browser-side packages as `npm pack` publishes them (the server's shape is its own).
describe.each(['policy', 'sw', 'client'])('the published @strata/%s', (name) => {
  const dir = join(repo, 'packages', name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  let files: Set<string>;
  beforeAll(() => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', dir], { cwd: repo, encoding: 'utf8' }),
    );
    files = new Set((pack.files as { path: string }[]).map((file) => file.path));
  }, 60_000);

  it('ships every file its exports name, the strata-source ones included', () => {
    const missing = targets(manifest.exports).filter((target) => !files.has(normalize(target)));
    expect(missing).toEqual([]);
  });

  it('ships the source every source map names', () => {
    const maps = [...files].filter((path) => path.endsWith('.js.map') || path.endsWith('.d.ts.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[] };
      return sources.map((source) => normalize(join(dirname(map), source))).filter((source) => !files.has(source));
    });
    expect(missing).toEqual([]);
  });

  it('says where it comes from and which Node it needs', () => {
    expect(manifest.engines).toEqual({ node: '>=20.19' });
    expect(manifest.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/strata-dev/strata.git',
      directory: `packages/${name}`,
    });
  });

  it('depends on nothing it does not import', () => {
    // The built code and declarations (a type-only import still needs the package installed).
    const built = [...files].filter((path) => path.startsWith('dist/') && /\.(js|d\.ts)$/.test(path));
    const code = built.map((path) => readFileSync(join(dir, path), 'utf8')).join('\n');
    const imports = (specifier: string) => new RegExp(`(from |import\\()'${specifier}[/']`).test(code);
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      // zod is there for @strata/policy/validate, which loads it as its optional peer.
      const used = imports(dependency) || (dependency === 'zod' && imports('@strata/policy/validate'));
      expect(used, `${dependency} is declared and never imported`).toBe(true);
    }
  });
});

describe('the published @strata/policy/protocol', () => {
  const dir = join(repo, 'packages', 'policy');
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

  it('is a subpath with its source, types and built code, like the others', () => {
    expect(manifest.exports['./protocol']).toEqual({
      'strata-source': './src/protocol/index.ts',
      types: './dist/protocol/index.d.ts',
      default: './dist/protocol/index.js',
    });
  });

  it('loads in plain Node from dist, with its names, and reaches no zod module', () => {
    const script = `const p = await import('@strata/policy/protocol');
      console.log(JSON.stringify([p.MSG_PURGE, p.encodePurgeEvent({ v: 1, id: '1-0', tags: ['t'], keys: [], at: 2 }),
        p.cacheStatusMember('strata', { hit: true, ttl: 1.5 }), p.servesStaleOnError(501)]));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([
      'strata:purge',
      'id: 1-0\ndata: {"v":1,"tags":["t"],"keys":[],"at":2}\n\n',
      'strata; hit; ttl=1',
      false,
    ]);
    const urls = modulesLoaded(`await import('@strata/policy/protocol');`, repo);
    expect(urls).toContain(`file://${repo}packages/policy/dist/protocol/index.js`);
    expect(urls.filter((url) => /\/zod\//.test(url))).toEqual([]);
  });
});
