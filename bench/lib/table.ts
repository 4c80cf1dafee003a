/** One measured case. */
export interface Row {
  label: string;
  /** Operations per second: the reciprocal of the measured cost of one operation. */
  opsPerSec: number;
  /** Dispersion of the measurement (median absolute deviation), in percent of the measured cost. */
  spread?: number;
  /** Label of the row measured in the same run that this one is compared with. */
  baseline?: string;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const formatOps = (ops: number): string => integer.format(ops);

export function formatRatio(ratio: number): string {
  return `${ratio >= 100 ? ratio.toFixed(0) : ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/** `row.opsPerSec / baseline.opsPerSec`, or undefined when the row names no baseline. */
export function ratioOf(rows: readonly Row[], row: Row): number | undefined {
  if (row.baseline === undefined) return undefined;
  const base = rows.find((r) => r.label === row.baseline);
  if (!base) throw new Error(`row '${row.label}' names baseline '${row.baseline}', which is not in the table`);
  return row.opsPerSec / base.opsPerSec;
}

/** A markdown table with padded columns, readable in a terminal and in RESULTS.md alike. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['Case', 'ops/s', '± MAD', 'vs baseline'];
  const body = rows.map((row) => {
    const ratio = ratioOf(rows, row);
    return [
      row.label,
      formatOps(row.opsPerSec),
      row.spread === undefined ? '' : `${row.spread.toFixed(1)}%`,
      ratio === undefined ? '(baseline)' : `${formatRatio(ratio)} ${row.baseline}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  // Numbers right-aligned, text left-aligned.
  const right = [false, true, true, false];
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
