import { createHash } from 'node:crypto';
import type { Precache } from '@strata/policy/protocol';

/** Which of the build's files the worker precaches: globs over their paths in the output directory. */
export interface PrecacheFiles {
  /** Default `['**\/*.{js,css,html}']`: the chunks, the styles and the pages (the app shell). */
  include?: string[];
  /** Globs of files left out even when `include` takes them. Default none. */
  exclude?: string[];
}

export const DEFAULT_PRECACHE_INCLUDE: readonly string[] = ['**/*.{js,css,html}'];

/** `**` any number of path segments, `*` and `?` within one, `{a,b}` either. */
export function globRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (glob.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '{') source += '(?:';
    else if (char === '}') source += ')';
    else if (char === ',') source += '|';
    else source += char.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * A directory's `index.html` is precached at the directory's URL (`/`, `/docs/`): the URL every
 * host serves it at (a single-page app's server may answer `/index.html` with a 404), what a
 * navigation asks for, and what a `navigationFallback` of `/` looks up.
 */
const servedAs = (fileName: string): string =>
  fileName === 'index.html' || fileName.endsWith('/index.html') ? fileName.slice(0, -'index.html'.length) : fileName;

const digest = (content: string | Uint8Array): string =>
  createHash('sha256').update(content).digest('hex').slice(0, 16);

/**
 * The precache of a build's `files` (paths in the output directory and their content) served under
 * `base`: each file's URL and content digest, sorted, and an id that changes when any of them does.
 */
export function precacheOf(
  files: readonly { fileName: string; source: string | Uint8Array }[],
  base: string,
  options: PrecacheFiles = {},
): Precache {
  const include = (options.include ?? DEFAULT_PRECACHE_INCLUDE).map(globRegExp);
  const exclude = (options.exclude ?? []).map(globRegExp);
  const prefix = base.endsWith('/') ? base : `${base}/`;
  const entries = files
    .filter(({ fileName }) => include.some((re) => re.test(fileName)) && !exclude.some((re) => re.test(fileName)))
    .map(({ fileName, source }) => ({ url: prefix + servedAs(fileName), revision: digest(source) }))
    .sort((a, b) => (a.url < b.url ? -1 : 1));
  return { id: digest(JSON.stringify(entries)), entries };
}
