import { parseArgs } from 'node:util';
import { describeManifest, headerLines } from './cli/format.js';
import { loadManifestFile } from './cli/load.js';
import { describeTags } from './cli/tags.js';
import { isManifestError, isStrataError } from './errors.js';
import { headersForRequest } from './manifest.js';
import type { Manifest } from './types.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const USAGE = `Usage:
  strata check <manifest>                         validate a manifest; print its routes, headers, and per tag
                                                  the routes that carry it and the writes that purge it
  strata headers <manifest> <url> [--method M]    print the headers one request gets
  strata proxy --manifest <file> --upstream <url> run Strata in front of any HTTP origin
                                                  (needs @strata/proxy; strata proxy --help)

<manifest> is a .ts, .js or .json file exporting the manifest (default export or 'manifest').
Validation needs zod installed; a .ts manifest also needs tsx.
Warnings (a tag no write rule purges, a write rule no route's tag matches) do not change the exit code.
Exit codes: 0 ok, 1 invalid manifest or no matching route, 2 usage or load error.`;

/** The validator, loaded on demand: it needs zod, an optional peer of @strata/policy. */
async function validator(io: CliIo): Promise<((json: unknown) => Manifest) | undefined> {
  try {
    return (await import('./validate/index.js')).parseManifest;
  } catch (error) {
    if (!isStrataError(error) || error.code !== 'E_PEER_MISSING') throw error;
    io.err('strata: validating a manifest needs zod: npm install -D zod');
    return undefined;
  }
}

async function load(file: string, io: CliIo): Promise<Manifest | number> {
  const parseManifest = await validator(io);
  if (!parseManifest) return 2;
  try {
    return parseManifest(await loadManifestFile(file));
  } catch (error) {
    if (isManifestError(error)) {
      io.err(`${file}: ${error.issues.length} issue${error.issues.length === 1 ? '' : 's'}`);
      for (const issue of error.issues) io.err(`  ${issue.path || '(root)'}: ${issue.message}`);
      return 1;
    }
    io.err(isStrataError(error) ? error.message : String(error));
    return 2;
  }
}

/** `strata proxy`: the command of @strata/proxy, which brings the server and the worker build. */
async function proxy(argv: string[], io: CliIo): Promise<number> {
  const name = '@strata/proxy'; // not a dependency: a variable keeps bundlers and tsc from resolving it
  let entry: { run(argv: string[], options: { io: CliIo }): Promise<number> };
  try {
    entry = await import(name);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND' || !String(error).includes(name)) throw error;
    io.err(`strata proxy needs ${name}: npm install ${name}`);
    return 2;
  }
  return entry.run(argv, { io });
}

/** Runs the `strata` command with its arguments; resolves to the exit code. */
export async function run(argv: string[], io: CliIo = { out: console.log, err: console.error }): Promise<number> {
  if (argv[0] === 'proxy') return proxy(argv.slice(1), io);
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { method: { type: 'string'; short: 'X' }; help: { type: 'boolean'; short: 'h' } };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: { method: { type: 'string', short: 'X' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    io.err(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const [command, file, url, ...extra] = parsed.positionals;
  if (parsed.values.help || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command === 'check' && file && url === undefined) {
    const manifest = await load(file, io);
    if (typeof manifest === 'number') return manifest;
    io.out(describeManifest(manifest, file));
    io.out(describeTags(manifest));
    return 0;
  }
  if (command === 'headers' && file && url && extra.length === 0) {
    const manifest = await load(file, io);
    if (typeof manifest === 'number') return manifest;
    const method = (parsed.values.method ?? 'GET').toUpperCase();
    const result = headersForRequest(manifest, url, method);
    if (!result) {
      io.out(`no route matches ${method} ${url}: Strata leaves this response's headers alone`);
      return 1;
    }
    const { match, headers } = result;
    const params = Object.entries(match.params).map(([k, v]) => `${k}=${v}`);
    io.out(
      [
        `route:  [${match.index}] ${match.route.match}`,
        `params: ${params.join(' ') || '-'}`,
        `tags:   ${match.tags.join(' ') || '-'}`,
        '',
        headerLines(headers),
      ].join('\n'),
    );
    return 0;
  }
  io.err(USAGE);
  return 2;
}
