/**
 * Runs the benchmarks in bench/*.bench.ts and writes bench/RESULTS.md.
 *
 *   npm run bench                    every benchmark
 *   npm run bench -- policy          only the named ones (file name without .bench.ts)
 *   npm run bench -- --quick         short time budgets; finishes in seconds, numbers are indicative
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderTable } from './lib/table.js';
import { type BenchModule, type BenchResult, isBenchModule } from './lib/types.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(benchDir, 'RESULTS.md');
const SUFFIX = '.bench.ts';

interface Completed {
  module: BenchModule;
  result: BenchResult;
  seconds: number;
}

function parseArgs(argv: readonly string[]): { quick: boolean; names: string[] } {
  const names: string[] = [];
  let quick = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('-')) throw new Error(`unknown option '${arg}' (known: --quick)`);
    else names.push(arg.endsWith(SUFFIX) ? arg.slice(0, -SUFFIX.length) : arg);
  }
  return { quick, names };
}

async function discover(): Promise<string[]> {
  const files = await readdir(benchDir);
  return files
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

async function load(name: string): Promise<BenchModule> {
  const exports: { default?: unknown } = await import(pathToFileURL(join(benchDir, `${name}${SUFFIX}`)).href);
  if (!isBenchModule(exports.default)) {
    throw new Error(`bench/${name}${SUFFIX} must default-export { name, aim, run(opts) }`);
  }
  return exports.default;
}

function aimLines(result: BenchResult): string[] {
  return result.aims.map((a) => `${a.met ? 'aim met' : 'aim NOT met'}: ${a.aim} (measured ${a.measured})`);
}

function section({ module, result, seconds }: Completed, quick: boolean): string {
  const lines = [`## ${module.name}`, '', `Aim: ${module.aim}`, ''];
  lines.push(
    `Run ${new Date().toISOString()}, ${quick ? 'quick mode (indicative only)' : 'full mode'}, ${seconds.toFixed(1)} s.`,
  );
  lines.push('', renderTable(result.rows), '');
  for (const note of result.notes) lines.push(note);
  lines.push('');
  for (const a of result.aims)
    lines.push(`- **${a.met ? 'aim met' : 'aim not met'}**: ${a.aim}; measured ${a.measured}.`);
  return lines.join('\n');
}

/** Sections of the existing RESULTS.md, by benchmark name, so running one benchmark keeps the others. */
async function previousSections(): Promise<Map<string, string>> {
  const text = await readFile(resultsFile, 'utf8').catch(() => '');
  const sections = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m).slice(1)) {
    const name = /^## (\S+)/.exec(part)?.[1];
    if (name) sections.set(name, part.trimEnd());
  }
  return sections;
}

async function summary(completed: readonly Completed[], quick: boolean): Promise<string> {
  const cpus = os.cpus();
  const sections = await previousSections();
  for (const done of completed) sections.set(done.module.name, section(done, quick));
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench`; each section says when it was last run. Compare ratios, not raw',
    'ops/s: every ratio is against a baseline measured in the same run on the same machine.',
    '',
    `- Machine: ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- Node: ${process.version} (${process.platform} ${process.arch})`,
  ];
  for (const name of [...sections.keys()].sort()) lines.push('', sections.get(name) as string);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    return 2;
  }
  const { quick, names } = args;
  const available = await discover();
  const unknown = names.filter((n) => !available.includes(n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ') || '(none)'}`);
    return 2;
  }
  const selected = names.length > 0 ? available.filter((n) => names.includes(n)) : available;
  const log = (line: string): void => console.log(line);
  const completed: Completed[] = [];
  const started = performance.now();

  for (const [i, name] of selected.entries()) {
    const module = await load(name);
    console.log(`\n[${i + 1}/${selected.length}] ${module.name}${quick ? ' (quick)' : ''}\n  aim: ${module.aim}`);
    const t0 = performance.now();
    const result = await module.run({ quick, log });
    const seconds = (performance.now() - t0) / 1_000;
    completed.push({ module, result, seconds });
    console.log(`\n${renderTable(result.rows)}\n`);
    for (const line of [...result.notes, ...aimLines(result)]) console.log(line);
    console.log(`(${module.name} took ${seconds.toFixed(1)} s)`);
  }

  await writeFile(resultsFile, await summary(completed, quick));
  console.log(`\nWrote ${resultsFile} in ${((performance.now() - started) / 1_000).toFixed(1)} s total.`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  // A failing benchmark (for example an unfair comparison) stops the run and leaves RESULTS.md untouched.
  console.error('\nbenchmark failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
