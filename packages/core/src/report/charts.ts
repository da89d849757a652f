import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * Chart specs for reports, written in Vega-Lite and compiled to Vega here, so the HTML file only
 * needs Vega's runtime inlined. Every chart carries its data inline (no URLs).
 */

export interface Chart {
  id: string;
  title: string;
  /** A compiled Vega spec. */
  spec: unknown;
}

const WIDTH = 520;
const HEIGHT = 260;

function vega(spec: TopLevelSpec): unknown {
  return compile(spec).spec;
}

export interface SeriesPoint {
  step: number;
  value: number;
  series: string;
}

/** Lines over steps, one per series; log y axis when asked (and all values are positive). */
export function lineChart(id: string, title: string, points: SeriesPoint[], opts: { y?: string; logY?: boolean; x?: string } = {}): Chart {
  const logY = Boolean(opts.logY) && points.every((p) => p.value > 0);
  const series = new Set(points.map((p) => p.series));
  return {
    id,
    title,
    spec: vega({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: WIDTH,
      height: HEIGHT,
      data: { values: points },
      mark: { type: 'line', point: points.length <= 60, interpolate: 'linear', tooltip: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: opts.x ?? 'step' },
        y: { field: 'value', type: 'quantitative', title: opts.y ?? 'value', scale: logY ? { type: 'log' } : { zero: false } },
        color: { field: 'series', type: 'nominal', title: null, legend: series.size > 1 ? { orient: 'bottom', columns: 2, labelLimit: 400 } : null },
      },
    }),
  };
}

/** ROC curves (FPR → TPR) with the chance diagonal. */
export function rocChart(id: string, title: string, points: { fpr: number; tpr: number; curve: string }[]): Chart {
  return {
    id,
    title,
    spec: vega({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: 360,
      height: 360,
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
          mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
          encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
        },
        {
          data: { values: points },
          mark: { type: 'line', interpolate: 'step-after', tooltip: true },
          encoding: {
            x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
            y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
            color: { field: 'curve', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 1, labelLimit: 400 } },
            order: { field: 'fpr', type: 'quantitative' },
          },
        },
      ],
    }),
  };
}

/** A heatmap of a metric over two axes, values printed in the cells. */
export function heatmapChart(id: string, title: string, cells: { x: string; y: string; value: number; n: number }[], labels: { x: string; y: string; value: string }): Chart {
  const lo = Math.min(...cells.map((c) => c.value));
  const hi = Math.max(...cells.map((c) => c.value));
  const values = cells.map((c) => ({ ...c, t: hi > lo ? (c.value - lo) / (hi - lo) : 0 }));
  const xs = new Set(cells.map((c) => c.x)).size;
  const ys = new Set(cells.map((c) => c.y)).size;
  const base = {
    x: { field: 'x', type: 'ordinal' as const, title: labels.x, sort: null },
    y: { field: 'y', type: 'ordinal' as const, title: labels.y, sort: null },
  };
  return {
    id,
    title,
    spec: vega({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: Math.max(160, Math.min(720, xs * 110)),
      height: Math.max(80, Math.min(560, ys * 44)),
      data: { values },
      layer: [
        {
          mark: { type: 'rect', tooltip: true },
          encoding: { ...base, color: { field: 'value', type: 'quantitative', title: labels.value, scale: { scheme: 'viridis' } } },
        },
        {
          mark: { type: 'text', fontSize: 12 },
          encoding: {
            ...base,
            text: { field: 'value', type: 'quantitative', format: '.4f' },
            color: { condition: { test: 'datum.t > 0.6', value: 'black' }, value: 'white' },
          },
        },
      ],
    }),
  };
}

/** Bars of a metric over one axis (a sweep with a single axis). */
export function barChart(id: string, title: string, bars: { x: string; value: number; std?: number }[], labels: { x: string; value: string }): Chart {
  return {
    id,
    title,
    spec: vega({
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      width: Math.max(200, Math.min(720, bars.length * 60)),
      height: HEIGHT,
      data: { values: bars },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'x', type: 'ordinal', title: labels.x, sort: null },
        y: { field: 'value', type: 'quantitative', title: labels.value },
      },
    }),
  };
}
