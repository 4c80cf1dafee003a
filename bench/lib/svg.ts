/**
 * Draws a `BarChart` as a standalone SVG: horizontal bars grouped per case, one colour per series
 * with a legend, the value at the end of each bar, an axis with the unit. Pure (chart in, string
 * out) and dependency-free. The chart paints its own white background, so it reads the same on
 * GitHub's light and dark themes.
 */
import type { BarChart } from './types.js';

/** Colour-blind-safe (Okabe–Ito), dark enough to read on white. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#7F7F7F', '#000000'];

const WIDTH = 760;
const PAD = 16;
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';
const TEXT = '#1f2328';
const MUTED = '#59636e';
const GRID = '#d1d9e0';
const BAR = 14;
const BAR_GAP = 3;
const GROUP_GAP = 12;
/** Average glyph width per px of font size: enough to lay out labels without measuring text. */
const GLYPH = 0.6;

/** Text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const textWidth = (text: string, size: number): number => text.length * size * GLYPH;

/** A bar's value: three significant digits, thousands separated; the unit after it. */
export function formatValue(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? { maximumFractionDigits: 0 } : { maximumSignificantDigits: 3 };
  const number = new Intl.NumberFormat('en-US', digits).format(value);
  if (unit === '') return number;
  return unit === '×' || unit === '%' ? `${number}${unit}` : `${number} ${unit}`;
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });

interface Scale {
  /** Position of a value, 0 (axis start) to 1 (axis end). */
  at(value: number): number;
  ticks: number[];
}

/** 0 to a round maximum, ticks at 1, 2 or 5 × 10^k. */
function linearScale(max: number): Scale {
  if (max <= 0) return { at: () => 0, ticks: [0, 1] };
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; i * step <= top + step / 2; i++) ticks.push(i * step);
  return { at: (v) => v / top, ticks };
}

/**
 * Decades up to a round maximum (1, 2 or 5 × 10^k). The axis starts one decade below the smallest
 * value's, so even the smallest bar has a length; zero (no bar) stays at the axis start.
 */
function logScale(min: number, max: number): Scale {
  const lo = Math.ceil(Math.log10(min)) - 1;
  const power = 10 ** Math.floor(Math.log10(max));
  const top = Math.max(10 ** (lo + 1), ([1, 2, 5, 10].find((m) => m * power >= max * (1 - 1e-9)) ?? 10) * power);
  const hi = Math.log10(top);
  const every = Math.ceil((hi - lo) / 8);
  const ticks: number[] = [];
  for (let p = lo; p <= hi + 1e-9; p += every) ticks.push(10 ** p);
  if ((ticks[ticks.length - 1] as number) < top * (1 - 1e-9)) ticks.push(top);
  return { at: (v) => (v <= 0 ? 0 : Math.max(0, (Math.log10(v) - lo) / (hi - lo))), ticks };
}

/** Lines of at most `max` characters, broken at spaces (a longer word gets a line of its own). */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** Every series in order of first appearance; their colours follow this order. */
function seriesOf(chart: BarChart): string[] {
  const names: string[] = [];
  for (const group of chart.groups)
    for (const bar of group.bars) if (!names.includes(bar.series)) names.push(bar.series);
  return names;
}

function validate(chart: BarChart): void {
  const where = `chart '${chart.title}'`;
  if (chart.groups.length === 0) throw new Error(`${where} has no groups: nothing to draw`);
  for (const group of chart.groups) {
    if (group.bars.length === 0) throw new Error(`${where}: group '${group.label}' has no bars`);
    for (const bar of group.bars) {
      if (!Number.isFinite(bar.value) || bar.value < 0) {
        throw new Error(`${where}: '${group.label}' / '${bar.series}' is ${bar.value}; bars need a finite value ≥ 0`);
      }
    }
  }
  if (chart.log && !chart.groups.some((g) => g.bars.some((b) => b.value > 0))) {
    throw new Error(`${where}: a log scale needs at least one value above 0`);
  }
}

/** The chart as an SVG document. Throws on a chart with no groups, an empty group or a bad value. */
export function renderBarChart(chart: BarChart): string {
  validate(chart);
  const series = seriesOf(chart);
  const colour = (name: string): string => PALETTE[series.indexOf(name) % PALETTE.length] as string;
  const values = chart.groups.flatMap((g) => g.bars.map((b) => b.value));
  const positive = values.filter((v) => v > 0);
  const scale = chart.log ? logScale(Math.min(...positive), Math.max(...positive)) : linearScale(Math.max(...values));

  const out: string[] = [];
  let y = PAD;

  // Title, wrapped at spaces to the width.
  for (const line of wrap(chart.title, (WIDTH - 2 * PAD) / (16 * GLYPH))) {
    y += 20;
    out.push(`<text x="${PAD}" y="${y}" font-size="16" font-weight="600" fill="${TEXT}">${escapeXml(line)}</text>`);
  }
  y += 6;

  // Legend, wrapped to the width.
  let x = PAD;
  y += 14;
  for (const name of series) {
    const width = 12 + 6 + textWidth(name, 12) + 18;
    if (x > PAD && x + width > WIDTH - PAD) {
      x = PAD;
      y += 18;
    }
    out.push(
      `<rect x="${x.toFixed(1)}" y="${y - 10}" width="12" height="12" rx="2" fill="${colour(name)}"/>`,
      `<text x="${(x + 18).toFixed(1)}" y="${y}" font-size="12" fill="${TEXT}">${escapeXml(name)}</text>`,
    );
    x += width;
  }
  y += 16;

  // Plot: group labels on the left, bars to the right of them.
  const labelWidth = Math.ceil(Math.min(WIDTH * 0.4, Math.max(...chart.groups.map((g) => textWidth(g.label, 12))) + 8));
  const left = PAD + labelWidth + 8;
  // Room right of the plot for the longest value label, so the longest bar's label fits too.
  const valueRoom = Math.ceil(Math.max(...values.map((v) => textWidth(formatValue(v, chart.unit), 11)))) + 8;
  const right = WIDTH - PAD - valueRoom;
  const span = right - left;
  const top = y;
  const bars: string[] = [];
  for (const group of chart.groups) {
    const height = group.bars.length * BAR + (group.bars.length - 1) * BAR_GAP;
    bars.push(
      `<text x="${left - 8}" y="${y + height / 2 + 4}" font-size="12" text-anchor="end" fill="${TEXT}">${escapeXml(group.label)}</text>`,
    );
    for (const bar of group.bars) {
      const length = Math.max(0, Math.min(1, scale.at(bar.value))) * span;
      const label = escapeXml(formatValue(bar.value, chart.unit));
      bars.push(
        `<rect class="bar" x="${left}" y="${y}" width="${length.toFixed(1)}" height="${BAR}" fill="${colour(bar.series)}"><title>${escapeXml(bar.series)}: ${label}</title></rect>`,
        `<text x="${(left + length + 4).toFixed(1)}" y="${y + BAR - 3}" font-size="11" fill="${TEXT}">${label}</text>`,
      );
      y += BAR + BAR_GAP;
    }
    y += GROUP_GAP - BAR_GAP;
  }
  const bottom = y - GROUP_GAP + 6;

  // Grid and axis under the bars.
  const grid: string[] = [];
  for (const tick of scale.ticks) {
    const tx = (left + scale.at(tick) * span).toFixed(1);
    grid.push(
      `<line x1="${tx}" y1="${top - 4}" x2="${tx}" y2="${bottom}" stroke="${GRID}" stroke-width="1"/>`,
      `<text x="${tx}" y="${bottom + 16}" font-size="11" text-anchor="middle" fill="${MUTED}">${escapeXml(compact.format(tick))}</text>`,
    );
  }
  grid.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${MUTED}" stroke-width="1"/>`);
  const axisTitle = `${chart.unit}${chart.log ? ' (log scale)' : ''}`;
  const height = bottom + 38 + PAD;
  grid.push(
    `<text x="${((left + right) / 2).toFixed(1)}" y="${bottom + 34}" font-size="12" text-anchor="middle" fill="${MUTED}">${escapeXml(axisTitle)}</text>`,
  );

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...out,
    ...grid,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}
