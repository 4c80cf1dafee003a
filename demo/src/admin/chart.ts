import 'uplot/dist/uPlot.min.css';
import uPlot from 'uplot';
import { h } from '../dom.js';
import { keepWindow, type RateSample } from './rates.js';

const WINDOW_SECONDS = 120;
const HEIGHT = 220;

export interface HitChart {
  readonly element: HTMLElement;
  add(sample: RateSample): void;
  destroy(): void;
}

/** Hits, misses and stale answers per second over the last two minutes, as a uPlot line chart. */
export function createHitChart(): HitChart {
  let samples: RateSample[] = [];
  const plot = h('div', { class: 'chart-plot' });
  const summary = h('p', { class: 'visually-hidden', 'aria-live': 'off', 'data-testid': 'hit-chart-summary' });
  const element = h('div', { class: 'chart', 'data-testid': 'hit-chart', 'data-points': 0 }, plot, summary);
  const chart = new uPlot(
    {
      width: 600,
      height: HEIGHT,
      series: [
        {},
        { label: 'Hits/s', stroke: '#047857', width: 2, points: { show: false } },
        { label: 'Misses/s', stroke: '#b91c1c', width: 2, points: { show: false } },
        { label: 'Stale/s', stroke: '#b45309', width: 2, dash: [6, 4], points: { show: false } },
      ],
      scales: {
        // Always the full two minutes, so the time axis reads in seconds from the first sample on.
        x: {
          time: true,
          range: (_u, _min, max) => {
            const end = Number.isFinite(max) ? max : Date.now() / 1000;
            return [end - WINDOW_SECONDS, end];
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [{}, { label: 'answers per second', size: 56 }],
      legend: { live: false },
    },
    [[], [], [], []],
    plot,
  );
  // The chart follows its container's width (window resizes, the sidebar collapsing).
  const resize = new ResizeObserver(() => {
    const width = Math.floor(plot.clientWidth);
    if (width > 0 && width !== chart.width) chart.setSize({ width, height: HEIGHT });
  });
  resize.observe(plot);

  return {
    element,
    add(sample) {
      samples = keepWindow(samples, sample, WINDOW_SECONDS);
      chart.setData([
        samples.map((s) => s.time),
        samples.map((s) => s.hits),
        samples.map((s) => s.misses),
        samples.map((s) => s.stale),
      ]);
      element.dataset.points = String(samples.length);
      const round = (n: number) => Math.round(n * 10) / 10;
      summary.textContent = `Last second: ${round(sample.hits)} hits, ${round(sample.misses)} misses, ${round(sample.stale)} stale per second.`;
    },
    destroy() {
      resize.disconnect();
      chart.destroy();
    },
  };
}
