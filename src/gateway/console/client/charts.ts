/**
 * @module gateway/console/client/charts
 * A node's three small uPlot charts over the last 15 minutes: requests per minute, error rate, and
 * p50/p95 latency. The second latency line is dashed, so the lines differ by more than colour.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ConsoleNode } from '../state.ts';

type Series = ConsoleNode['figures']['series'];

const HEIGHT = 70;

const cssVar = (name: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

interface ChartSpec {
  readonly caption: string;
  readonly lines: readonly { label: string; color: string; dash?: number[] }[];
  readonly data: (s: Series) => (number | null)[][];
}

const SPECS: readonly ChartSpec[] = [
  {
    caption: 'Requests / min',
    lines: [{ label: 'req/min', color: '--chart-1' }],
    data: (s) => [s.requestsPerMin],
  },
  {
    caption: 'Errors %',
    lines: [{ label: 'errors %', color: '--chart-2' }],
    data: (s) => [s.errorPct],
  },
  {
    caption: 'Latency ms: p50 — p95 ┄',
    lines: [
      { label: 'p50 ms', color: '--chart-3' },
      { label: 'p95 ms', color: '--chart-2', dash: [4, 3] },
    ],
    data: (s) => [s.p50Ms, s.p95Ms],
  },
];

/** A node's charts; update() redraws them with new series. */
export interface NodeCharts {
  readonly element: HTMLElement;
  update(series: Series): void;
  resize(): void;
}

function makePlot(spec: ChartSpec, holder: HTMLElement, series: Series): uPlot {
  const axisColor = cssVar('--muted');
  const options: uPlot.Options = {
    width: Math.max(80, holder.clientWidth || 120),
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    padding: [4, 4, 0, 0],
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
    axes: [
      { show: false },
      {
        size: 34,
        stroke: axisColor,
        font: '10px system-ui',
        ticks: { show: false },
        grid: { stroke: cssVar('--line'), width: 1 },
      },
    ],
    series: [
      {},
      ...spec.lines.map((l) => ({
        label: l.label,
        stroke: cssVar(l.color),
        width: 1.5,
        spanGaps: false,
        points: { show: false },
        ...(l.dash ? { dash: l.dash } : {}),
      })),
    ],
  };
  return new uPlot(options, [series.t, ...spec.data(series)] as uPlot.AlignedData, holder);
}

/** Builds the charts of one node (drawn once attached, at their holder's width). */
export function createCharts(series: Series): NodeCharts {
  const element = document.createElement('div');
  element.className = 'charts';
  const plots: { spec: ChartSpec; holder: HTMLElement; plot: uPlot | null }[] = SPECS.map(
    (spec) => {
      const figure = document.createElement('figure');
      const caption = document.createElement('figcaption');
      caption.textContent = spec.caption;
      const holder = document.createElement('div');
      holder.className = 'chart';
      holder.setAttribute('role', 'img');
      holder.setAttribute('aria-label', `${spec.caption}, last 15 minutes`);
      figure.append(caption, holder);
      element.append(figure);
      return { spec, holder, plot: null };
    },
  );
  let last = series;
  return {
    element,
    update(next) {
      last = next;
      for (const p of plots) {
        if (p.plot === null) {
          if (p.holder.isConnected) {
            p.plot = makePlot(p.spec, p.holder, next);
          }
          continue;
        }
        p.plot.setData([next.t, ...p.spec.data(next)] as uPlot.AlignedData);
      }
    },
    resize() {
      for (const p of plots) {
        p.plot?.setSize({ width: Math.max(80, p.holder.clientWidth), height: HEIGHT });
      }
      this.update(last);
    },
  };
}
