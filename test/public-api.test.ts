import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const PACKAGES = ['policy', 'sw', 'client', 'server', 'proxy'] as const;

/** The package's entries that have TypeScript sources, as `[import name, source path]`. */
function entries(pkg: string): [string, string][] {
  const manifest = JSON.parse(readFileSync(new URL(`../packages/${pkg}/package.json`, import.meta.url), 'utf8')) as {
    name: string;
    exports: Record<string, unknown>;
  };
  return Object.entries(manifest.exports).flatMap(([subpath, target]) => {
    const source = (target as { 'strata-source'?: string } | null)?.['strata-source'];
    return source ? [[subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`, source]] : [];
  });
}

/**
 * The names the README's `## API` section lists per entry: lines `- \`<entry>\`: \`a\`, \`b\``.
 * Lines `- \`<entry>\` (types): …` list types, which have no runtime value and are not compared.
 */
function documented(pkg: string): Map<string, string[]> {
  const readme = readFileSync(new URL(`../packages/${pkg}/README.md`, import.meta.url), 'utf8');
  const start = readme.indexOf('\n## API\n');
  expect(start, `packages/${pkg}/README.md has an "## API" section`).toBeGreaterThanOrEqual(0);
  const rest = readme.slice(start + 1);
  const end = rest.indexOf('\n## ', 1);
  const section = end === -1 ? rest : rest.slice(0, end);
  const lists = new Map<string, string[]>();
  // An item runs until the next item or a blank line (a long list may wrap).
  for (const item of section.split(/\n(?=- )|\n\n/)) {
    const match = /^- `(@strata\/[^`]+)`: ([\s\S]*)$/.exec(item.trim());
    if (match)
      lists.set(
        match[1] as string,
        [...(match[2] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string),
      );
  }
  return lists;
}

describe('each package README lists exactly the runtime exports of its entries', () => {
  for (const pkg of PACKAGES) {
    for (const [name, source] of entries(pkg)) {
      it(name, async () => {
        // The worker entry reads the service-worker global at import; a stand-in is enough to load it.
        if (pkg === 'sw') vi.stubGlobal('self', globalThis);
        const module = (await import(/* @vite-ignore */ `../packages/${pkg}/${source.slice(2)}`)) as Record<
          string,
          unknown
        >;
        vi.unstubAllGlobals();
        const listed = documented(pkg).get(name);
        expect(listed, `packages/${pkg}/README.md lists the exports of ${name}`).toBeDefined();
        expect([...(listed ?? [])].sort()).toEqual(Object.keys(module).sort());
      });
    }
  }
});
