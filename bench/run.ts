/**
 * Runs the benchmarks in bench/*.bench.ts and writes bench/RESULTS.md.
 *
 *   npm run bench                    every benchmark
 *   npm run bench -- policy          only the named ones (file name without .bench.ts)
 *   npm run bench -- --quick         short time budgets (each benchmark under a minute), numbers are indicative
 *
 * A benchmark that returns a chart gets bench/charts/<name>.svg, embedded in its section.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineFacts } from './lib/machine.js';
import { renderBarChart } from './lib/svg.js';
import { renderTable } from './lib/table.js';
import { type BenchModule, type BenchResult, isBenchModule } from './lib/types.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(benchDir, 'RESULTS.md');
const chartsDir = join(benchDir, 'charts');
/** A benchmark silent for this long gets a line from the runner, so a long run never looks hung. */
const HEARTBEAT_MS = 10_000;
const SUFFIX = '.bench.ts';

interface Completed {
  module: BenchModule;
  result: BenchResult;
  seconds: number;
  /** The chart drawn, written beside RESULTS.md once every benchmark has passed. */
  svg?: string;
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
  // Brackets would end the image's alt text early.
  if (result.chart) lines.push(`![${result.chart.title.replace(/[[\]]/g, '')}](charts/${module.name}.svg)`, '');
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
  const sections = await previousSections();
  for (const done of completed) sections.set(done.module.name, section(done, quick));
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench`; each section says when it was last run. Compare ratios, not raw',
    'ops/s: every ratio is against a baseline measured in the same run on the same machine.',
    '',
    `Machine and versions when this file was last written, ${new Date().toISOString()} (by a run of ${completed.map((c) => c.module.name).join(', ')}):`,
    '',
    ...(await machineFacts()),
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
  let lastLine = performance.now();
  const log = (line: string): void => {
    lastLine = performance.now();
    console.log(line);
  };
  const completed: Completed[] = [];
  const started = performance.now();

  for (const [i, name] of selected.entries()) {
    const module = await load(name);
    console.log(`\n[${i + 1}/${selected.length}] ${module.name}${quick ? ' (quick)' : ''}\n  aim: ${module.aim}`);
    const t0 = performance.now();
    lastLine = t0;
    const heartbeat = setInterval(() => {
      if (performance.now() - lastLine < HEARTBEAT_MS) return;
      log(`  … ${module.name} still running (${((performance.now() - t0) / 1_000).toFixed(0)} s so far)`);
    }, 1_000);
    let result: BenchResult;
    try {
      result = await module.run({ quick, log });
    } finally {
      clearInterval(heartbeat);
    }
    const seconds = (performance.now() - t0) / 1_000;
    // Drawn now, so a chart that cannot be drawn fails the run before anything is written.
    completed.push({ module, result, seconds, ...(result.chart ? { svg: renderBarChart(result.chart) } : {}) });
    console.log(`\n${renderTable(result.rows)}\n`);
    for (const line of [...result.notes, ...aimLines(result)]) console.log(line);
    console.log(`(${module.name} took ${seconds.toFixed(1)} s)`);
  }

  for (const { module, svg } of completed) {
    if (svg === undefined) continue;
    await mkdir(chartsDir, { recursive: true });
    await writeFile(join(chartsDir, `${module.name}.svg`), svg);
  }
  await writeFile(resultsFile, await summary(completed, quick));
  const durations = completed.map(({ module, seconds }) => `${module.name} ${seconds.toFixed(1)} s`).join(', ');
  console.log(`\nDurations${quick ? ' (quick)' : ''}: ${durations}.`);
  console.log(`Wrote ${resultsFile} in ${((performance.now() - started) / 1_000).toFixed(1)} s total.`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  // A failing benchmark (for example an unfair comparison) stops the run and leaves RESULTS.md untouched.
  console.error('\nbenchmark failed:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
