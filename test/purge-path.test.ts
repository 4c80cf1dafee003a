import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = new URL('..', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(repo, path), 'utf8');

/** The rows of the hop table in docs/architecture.md's "The purge path": `[#, where, what, payload]`. */
function hops(): string[][] {
  const doc = read('docs/architecture.md');
  const start = doc.indexOf('\n## The purge path\n');
  expect(start, 'docs/architecture.md has a "The purge path" section').toBeGreaterThanOrEqual(0);
  const section = doc.slice(start + 1, doc.indexOf('\n## ', start + 1));
  return section
    .split('\n')
    .filter((line) => /^\|\s*\d+\s*\|/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

/** Every `.ts` file under a package's `src`, as `pkg/src/…` (how the doc names them). */
function sources(dir = 'packages'): string[] {
  return readdirSync(join(repo, dir), { recursive: true, encoding: 'utf8' }).filter((path) =>
    /^[^/]+\/src\/.*\.ts$/.test(path),
  );
}

describe('the purge path in docs/architecture.md matches the code', () => {
  const rows = hops();

  it('has at most 8 hops, numbered in order', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThanOrEqual(8);
    expect(rows.map((row) => Number(row[0]))).toEqual(rows.map((_, i) => i + 1));
  });

  it('names files that exist, and functions and classes each of those files declares', () => {
    for (const [n, where = '', what = ''] of rows) {
      // `server/src/purge-channel.ts`: a file, relative to packages/.
      const files = [...`${where} ${what}`.matchAll(/`((?:policy|server|client|sw)\/src\/[\w/.-]+\.ts)`/g)].map(
        (m) => `packages/${m[1]}`,
      );
      expect(files.length, `hop ${n} names its file`).toBeGreaterThan(0);
      for (const file of files) expect(existsSync(join(repo, file)), `hop ${n}: ${file}`).toBe(true);
      const code = files.map(read).join('\n');
      // `PurgeChannel.purge`, `Outbox.deliver`, `apply`: each name the "where" cell gives.
      const names = [...where.matchAll(/`([A-Za-z]\w*(?:\.\w+)?)`/g)].map((m) => m[1] as string);
      expect(names.length, `hop ${n} names its function`).toBeGreaterThan(0);
      for (const name of names) {
        for (const part of name.split('.')) {
          const declared = new RegExp(
            `(?:class|function|interface|const|let) ${part}\\b|^\\s*(?:async\\s+)?${part}\\s*[(<]|\\b${part}\\s*\\(|\\b${part}:`,
            'm',
          );
          expect(declared.test(code), `hop ${n}: ${name} in ${files.join(', ')}`).toBe(true);
        }
      }
    }
  });

  it('carries one payload type from the log to the worker: the PurgeEvent of @strata/policy/protocol', () => {
    for (const [n, , , payload = ''] of rows.slice(1)) expect(payload, `hop ${n}`).toMatch(/PurgeEvent|PurgeMessage/);
    // Declared once: no package restates it under the same name.
    const declarations = sources().filter((path) =>
      /^export (?:interface PurgeEvent\b|type PurgeEvent\s*=)/m.test(read(join('packages', path))),
    );
    expect(declarations).toEqual(['policy/src/protocol/event.ts']);
    // The worker's purge message is that event with a type.
    expect(read('packages/policy/src/protocol/messages.ts')).toMatch(/export type PurgeMessage = .*\n?.*PurgeEvent/);
  });
});
