import { describe, expect, it } from 'vitest';
import { escapeXml, formatValue, renderBarChart } from './svg.js';
import type { BarChart } from './types.js';

const chart = (overrides: Partial<BarChart> = {}): BarChart => ({
  title: 'Latency',
  unit: 'ms',
  groups: [
    {
      label: '50 entries',
      bars: [
        { series: 'strata', value: 4 },
        { series: 'workbox', value: 6.4 },
      ],
    },
    {
      label: '2,000 entries',
      bars: [
        { series: 'strata', value: 4.2 },
        { series: 'workbox', value: 7.8 },
        { series: 'no service worker', value: 2.6 },
      ],
    },
  ],
  ...overrides,
});

/** One group on a log scale, its bars a, b, c… with `values`. */
const logChart = (title: string, unit: string, values: number[]): string =>
  renderBarChart({
    title,
    unit,
    log: true,
    groups: [{ label: 'g', bars: values.map((value, i) => ({ series: String.fromCharCode(97 + i), value })) }],
  });

/** The width of every bar, in document order. */
const widths = (svg: string): number[] =>
  [...svg.matchAll(/<rect class="bar"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));

/** The fill of every bar, in document order. */
const fills = (svg: string): string[] =>
  [...svg.matchAll(/<rect class="bar"[^>]* fill="([^"]+)"/g)].map((m) => m[1] ?? '');

describe('renderBarChart', () => {
  it('draws one bar per value, and a legend entry and a colour per series', () => {
    const svg = renderBarChart(chart());
    expect(widths(svg)).toHaveLength(5);
    const [strata, workbox, strata2, workbox2] = fills(svg);
    expect(strata).toBe(strata2);
    expect(workbox).toBe(workbox2);
    expect(new Set(fills(svg)).size).toBe(3);
    for (const name of ['strata', 'workbox', 'no service worker']) expect(svg).toContain(`>${name}</text>`);
  });

  it('is a standalone SVG with an opaque background, value labels and the unit on the axis', () => {
    const svg = renderBarChart(chart());
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<rect width="100%" height="100%" fill="#ffffff"/>');
    expect(svg).toContain('>6.4 ms</text>');
    expect(svg).toContain('>ms</text>');
  });

  it('wraps a long title and keeps the longest value label inside the picture', () => {
    const title = 'A rather long title that explains the chart, its unit and which way is better, in detail';
    const svg = renderBarChart(chart({ title, unit: 'bytes per entry' }));
    const lines = [...svg.matchAll(/<text [^>]*font-size="16"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join(' ')).toBe(title);
    const width = Number(/<svg [^>]*width="(\d+)"/.exec(svg)?.[1]);
    const longest = Math.max(...widths(svg));
    const x = Number(/<rect class="bar" x="([\d.]+)"/.exec(svg)?.[1]);
    // The label of the longest bar starts 4 px after it; 0.6 em per glyph at 11 px.
    expect(x + longest + 4 + '7.8 bytes per entry'.length * 11 * 0.6).toBeLessThanOrEqual(width);
  });

  it('makes bar length proportional to the value on a linear scale', () => {
    const [a, b] = widths(
      renderBarChart(
        chart({
          groups: [
            {
              label: 'g',
              bars: [
                { series: 'a', value: 25 },
                { series: 'b', value: 100 },
              ],
            },
          ],
        }),
      ),
    );
    expect((b as number) / (a as number)).toBeCloseTo(4, 1);
  });

  it('escapes markup in titles, labels, series and units', () => {
    const svg = renderBarChart({
      title: 'A <b> & "c"',
      unit: "<'u'>",
      groups: [{ label: 'x < y & "z"', bars: [{ series: '<script>alert(1)</script>', value: 1 }] }],
    });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('A &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg).toContain('x &lt; y &amp; &quot;z&quot;');
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('&lt;&#39;u&#39;&gt;');
    expect(escapeXml(`<&"'>`)).toBe('&lt;&amp;&quot;&#39;&gt;');
  });

  it('keeps order on a log scale and spaces decades evenly', () => {
    const svg = logChart('spread', 'ops/s', [10, 100, 1_000, 10_000]);
    const [a, b, c, d] = widths(svg) as [number, number, number, number];
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(b);
    expect(b).toBeLessThan(c);
    expect(c).toBeLessThan(d);
    expect(b - a).toBeCloseTo(c - b, 0);
    expect(c - b).toBeCloseTo(d - c, 0);
    expect(svg).toContain('(log scale)');
  });

  it('draws a zero as an empty bar on a log scale', () => {
    const svg = logChart('t', 'B', [0, 50]);
    const [zero, fifty] = widths(svg);
    expect(zero).toBe(0);
    expect(fifty).toBeGreaterThan(0);
  });

  it('rejects what it cannot draw, naming the problem', () => {
    expect(() => renderBarChart({ title: 'none', unit: 'ms', groups: [] })).toThrow(/chart 'none' has no groups/);
    expect(() => renderBarChart(chart({ groups: [{ label: 'empty one', bars: [] }] }))).toThrow(
      /group 'empty one' has no bars/,
    );
    expect(() =>
      renderBarChart(chart({ groups: [{ label: 'g', bars: [{ series: 's', value: Number.NaN }] }] })),
    ).toThrow(/finite value/);
    expect(() => renderBarChart(chart({ groups: [{ label: 'g', bars: [{ series: 's', value: -1 }] }] }))).toThrow(
      /finite value/,
    );
    expect(() =>
      renderBarChart(chart({ log: true, groups: [{ label: 'g', bars: [{ series: 's', value: 0 }] }] })),
    ).toThrow(/log scale/);
  });
});

describe('formatValue', () => {
  it('keeps three significant digits below 100 and separates thousands', () => {
    expect(formatValue(2.2222, 'ms')).toBe('2.22 ms');
    expect(formatValue(1_234_567.8, 'req/s')).toBe('1,234,568 req/s');
    expect(formatValue(1.5, '×')).toBe('1.5×');
    expect(formatValue(42, '')).toBe('42');
  });
});
