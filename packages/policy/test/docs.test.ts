/**
 * The repository is self-contained: every document a comment, README or doc cites is tracked in
 * it, and every cited section of `docs/` exists. Scans the tracked text files (`git ls-files`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
/** This file: its fixtures cite missing documents on purpose. */
const self = posix.relative(root, fileURLToPath(import.meta.url));

/** Documents that live outside the repository: citing them leaves a reader of a clone stranded. */
const OUTSIDE = /\b(?:STANDARDS|DESIGN|ENVIRONMENT|STYLE|SEED)\.md\b/g;
/** The folder beside the repository that a clone does not have (spelled in two parts so this file does not cite it). */
const SHARED = new RegExp(`\\.\\./${'shared'}\\b`, 'g');
/** A markdown link's target: `[text](target)`. */
const MD_LINK = /\]\(([^)\s]+)\)/g;
/** A path to a document under the repository's `docs/`, cited from the repository root. */
const ROOT_DOC = /(?<![\w./-])docs\/[\w./-]+?\.md(?:#[\w-]+)?/g;
/** `owner/repo ` right before a `docs/…` mention: a file of another repository. */
const OTHER_REPO = /[\w.-]+\/[\w.-]+\s+$/;

interface Repo {
  files: ReadonlySet<string>;
  read(path: string): string;
}

interface Problem {
  file: string;
  line: number;
  cites: string;
  why: string;
}

/** GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces to `-`, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = heading
        .toLowerCase()
        .replace(/<[^>]*>/g, '')
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1] as string);
  }
  return anchors;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Why `target` (a repository path, maybe with `#anchor`) does not resolve, or undefined when it does. */
function unresolved(repo: Repo, target: string): string | undefined {
  const [path = '', anchor] = target.split('#');
  if (!repo.files.has(path)) return `${path} is not a tracked file`;
  if (anchor !== undefined && !anchorsOf(repo.read(path)).has(anchor)) return `${path} has no section #${anchor}`;
  return undefined;
}

/** Every citation in `file` that leads outside the repository or to a missing file or section. */
function problemsIn(repo: Repo, file: string): Problem[] {
  const text = repo.read(file);
  const dir = posix.dirname(file);
  const problems: Problem[] = [];
  const report = (index: number, cites: string, why: string) =>
    problems.push({ file, line: lineOf(text, index), cites, why });

  for (const match of text.matchAll(OUTSIDE)) report(match.index, match[0], 'a document outside the repository');
  for (const match of text.matchAll(SHARED)) report(match.index, match[0], 'not in the repository');
  for (const match of text.matchAll(ROOT_DOC)) {
    if (OTHER_REPO.test(text.slice(text.lastIndexOf('\n', match.index) + 1, match.index))) continue;
    const why = unresolved(repo, match[0]);
    if (why) report(match.index, match[0], why);
  }
  if (file.endsWith('.md')) {
    for (const match of text.matchAll(MD_LINK)) {
      const target = match[1] as string;
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, mailto:
      const [path = '', anchor] = target.split('#');
      if (path === '' && anchor !== undefined) {
        if (!anchorsOf(text).has(anchor)) report(match.index, target, `no section #${anchor} here`);
        continue;
      }
      if (!path.endsWith('.md')) continue;
      const why = unresolved(repo, posix.join(dir, path) + (anchor === undefined ? '' : `#${anchor}`));
      if (why) report(match.index, target, why);
    }
  }
  return problems;
}

function trackedRepo(): Repo {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  const cache = new Map<string, string>();
  return {
    files: new Set(files),
    read(path) {
      let text = cache.get(path);
      if (text === undefined) {
        const bytes = readFileSync(posix.join(root, path));
        text = bytes.subarray(0, 8000).includes(0) ? '' : bytes.toString('utf8'); // binary: nothing to cite
        cache.set(path, text);
      }
      return text;
    },
  };
}

function fixture(files: Record<string, string>): Repo {
  return { files: new Set(Object.keys(files)), read: (path) => files[path] ?? '' };
}

describe('the repository is self-contained', () => {
  it('no tracked file cites a document outside the repository, and every docs/ citation resolves', () => {
    const repo = trackedRepo();
    expect(repo.files.size).toBeGreaterThan(100);
    const problems = [...repo.files].filter((file) => file !== self).flatMap((file) => problemsIn(repo, file));
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.cites} (${p.why})`)).toEqual([]);
  });

  it('the docs index lists every document under docs/', () => {
    const repo = trackedRepo();
    const index = repo.read('docs/README.md');
    const documents = [...repo.files].filter((f) => /^docs\/[^/]+\.md$/.test(f) && f !== 'docs/README.md');
    expect(documents.length).toBeGreaterThanOrEqual(4);
    for (const document of documents) expect(index).toContain(`](${posix.basename(document)})`);
  });
});

describe('the citation check', () => {
  const repo = fixture({
    'docs/rules.md': '# Rules\n\n## Vary\n\n## Cache-Status (RFC 9211)\n\n<a id="pitfall-17"></a>\n',
    'demo/common/api.ts': '',
    'packages/a/src/x.ts': [
      '// docs/rules.md#vary and docs/rules.md#cache-status-rfc-9211 and docs/rules.md#pitfall-17',
      '// docs/rules.md#age',
      '// docs/missing.md',
      "// fastly/fastly-js docs/PurgeApi.md is another repository's file",
      `// ${'STANDARDS'}.md §2`,
      `import '../${'shared'}/api.js';`,
    ].join('\n'),
    'demo/server/app.ts': "import '../common/api.js';",
    'packages/a/README.md': '[ok](../../docs/rules.md#vary) [bad](../../docs/rules.md#nope) [self](#nowhere)\n',
  });

  it('reports missing files, missing sections, outside documents and the folder beside the repository, and nothing else', () => {
    const found = [...repo.files]
      .flatMap((file) => problemsIn(repo, file))
      .map((p) => `${p.file}:${p.line} ${p.cites}`);
    expect(found.sort()).toEqual(
      [
        'packages/a/src/x.ts:2 docs/rules.md#age',
        'packages/a/src/x.ts:3 docs/missing.md',
        `packages/a/src/x.ts:5 ${'STANDARDS'}.md`,
        `packages/a/src/x.ts:6 ../${'shared'}`,
        'packages/a/README.md:1 ../../docs/rules.md#nope',
        'packages/a/README.md:1 #nowhere',
      ].sort(),
    );
  });

  it('derives heading anchors as GitHub does', () => {
    expect([
      ...anchorsOf('## Cache-Control\n## SSE resumption (HTML §9.2)\n## Vary\n## Vary\n```\n# not\n```'),
    ]).toEqual(['cache-control', 'sse-resumption-html-92', 'vary', 'vary-1']);
  });
});
