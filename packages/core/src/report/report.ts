import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { writeFileAtomic } from '../io/atomic.js';
import type { RunMeta } from '../runstore/meta.js';
import { RunStore } from '../runstore/run-store.js';
import { collectResults, type SweepResults } from '../sweep/results.js';
import { formatValue } from '../sweep/spec.js';
import { UserError } from '../util/errors.js';
import { barChart, heatmapChart, lineChart, rocChart, type Chart, type SeriesPoint } from './charts.js';
import { readPredictions, rocCurve, thin, videoLevel } from './roc.js';

export interface ReportOptions {
  /** Output file (default: <dir>/report.html). */
  output?: string;
  /** Sweep heatmap axes (default: the first two axes with more than one value, seed excluded). */
  axes?: string[];
  /** Sweep metric for the heatmap and sorting (default: the monitor's best value). */
  metric?: string;
}

export interface Report {
  kind: 'run' | 'sweep';
  html: string;
  charts: Chart[];
  output: string;
}

const MAX_POINTS = 1000;
const VAL_KEYS = /^val\/(frame|video)\/(auroc|mAP|ap_fake|ap_real|eer|accuracy|balanced_accuracy)$/;

const esc = (s: unknown) =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const num = (v: unknown) => (typeof v !== 'number' || Number.isNaN(v) ? '' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));

/** Series of `keys` over steps from metric records, thinned to MAX_POINTS each. */
function series(records: Record<string, unknown>[], keys: string[], label: (k: string) => string = (k) => k): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const k of keys) {
    const pts = records
      .filter((r) => typeof r.step === 'number' && typeof r[k] === 'number' && Number.isFinite(r[k] as number))
      .map((r) => ({ step: r.step as number, value: r[k] as number, series: label(k) }));
    out.push(...thin(pts, MAX_POINTS));
  }
  return out;
}

function metricKeys(records: Record<string, unknown>[]): string[] {
  const keys = new Set<string>();
  for (const r of records) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') keys.add(k);
  return [...keys];
}

/** Training curves, validation curves and ROC curves of one run folder. */
function runCharts(dir: string, prefix = ''): { charts: Chart[]; rocAucs: { curve: string; auc: number }[] } {
  const run = RunStore.read(dir);
  const records = run.metrics();
  const keys = metricKeys(records);
  const charts: Chart[] = [];
  const lossKeys = keys.filter((k) => k === 'train/loss' || k.startsWith('train/loss/')).sort();
  if (lossKeys.length) charts.push(lineChart(`${prefix}loss`, 'Training loss', series(records, lossKeys), { y: 'loss' }));
  if (keys.includes('train/lr')) charts.push(lineChart(`${prefix}lr`, 'Learning rate', series(records, ['train/lr']), { y: 'learning rate' }));
  if (keys.includes('train/grad_norm')) charts.push(lineChart(`${prefix}grad`, 'Gradient norm', series(records, ['train/grad_norm']), { y: 'norm' }));
  let valKeys = keys.filter((k) => VAL_KEYS.test(k)).sort();
  if (!valKeys.length) valKeys = keys.filter((k) => k.startsWith('val/') && !/\/n(_fake|_real)?$/.test(k)).sort().slice(0, 12);
  if (valKeys.length) charts.push(lineChart(`${prefix}val`, 'Validation metrics', series(records, valKeys), { y: 'metric' }));

  const rocAucs: { curve: string; auc: number }[] = [];
  const evalDir = run.path('eval');
  if (existsSync(evalDir)) {
    const files = readdirSync(evalDir).filter((f) => /^predictions-.+\.csv$/.test(f)).sort();
    const pts: { fpr: number; tpr: number; curve: string }[] = [];
    for (const f of files) {
      const dataset = f.replace(/^predictions-/, '').replace(/\.csv$/, '');
      const preds = readPredictions(join(evalDir, f));
      for (const [level, ps] of [['frame', preds], ['video', videoLevel(preds)]] as const) {
        const roc = rocCurve(ps);
        if (!roc) continue;
        const curve = `${dataset} ${level} (AUC ${roc.auc.toFixed(4)})`;
        rocAucs.push({ curve, auc: roc.auc });
        pts.push(...roc.points.map((p) => ({ ...p, curve })));
      }
    }
    if (pts.length) charts.push(rocChart(`${prefix}roc`, 'ROC curves (test predictions)', pts));
  }
  return { charts, rocAucs };
}

function table(header: string[], rows: string[][], cls = ''): string {
  return `<table class="${cls}"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function runSection(dir: string): { html: string; charts: Chart[] } {
  const run = RunStore.read(dir);
  const meta = run.meta() as RunMeta;
  const summary = run.summary() ?? {};
  const { charts, rocAucs } = runCharts(dir);
  const best = summary.best as { value?: number; step?: number } | null | undefined;
  const facts: [string, string][] = [
    ['experiment / run', `${meta.experiment} / ${meta.run}`],
    ['status', meta.status],
    ['started', meta.started_at],
    ['ended', meta.ended_at ?? ''],
    ['engine', meta.engine ? `${meta.engine.backend} on ${meta.engine.device}` : ''],
    ['git', meta.git?.commit ? `${meta.git.commit.slice(0, 12)}${meta.git.dirty ? ' (dirty)' : ''}` : ''],
    ['steps', summary.steps !== undefined ? `${summary.steps} / ${summary.total_steps ?? '?'}` : ''],
    ['PEFT', String(summary.peft ?? '')],
    [`best ${summary.monitor ?? 'monitor'}`, typeof best?.value === 'number' ? `${num(best.value)} at step ${best.step}` : ''],
  ];
  const final = (summary.final as Record<string, unknown> | undefined) ?? {};
  const finalRows = Object.entries(final)
    .filter(([k, v]) => typeof v === 'number' && (k === 'train/loss' || VAL_KEYS.test(k)))
    .map(([k, v]) => [k, num(v)]);
  let testHtml = '';
  if (Array.isArray(summary.test) && summary.test.length) {
    const metrics = ['auroc', 'mAP', 'eer', 'accuracy'];
    const rows = (summary.test as { dataset: string; frame?: Record<string, number>; video?: Record<string, number> }[]).map((r) => [
      r.dataset,
      ...metrics.flatMap((m) => [num(r.frame?.[m]), num(r.video?.[m])]),
    ]);
    testHtml = `<h3>Test</h3>${table(['dataset', ...metrics.flatMap((m) => [`frame ${m}`, `video ${m}`])], rows)}`;
  }
  const rocHtml = rocAucs.length ? `<p class="note">${rocAucs.map((r) => esc(r.curve)).join(' · ')}</p>` : '';
  const html = `<section>
<h2>Run ${esc(meta.experiment)}/${esc(meta.run)}</h2>
${table(['', ''], facts.filter(([, v]) => v), 'facts')}
${finalRows.length ? `<h3>Final metrics</h3>${table(['metric', 'value'], finalRows)}` : ''}
${testHtml}
<h3>Curves</h3>
<div class="charts">${charts.map(chartDiv).join('\n')}</div>
${rocHtml}
</section>`;
  return { html, charts };
}

function chartDiv(c: Chart): string {
  return `<figure class="chart-box"><figcaption>${esc(c.title)}</figcaption><div class="chart" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}"></div></figure>`;
}

function sweepSection(dir: string, opts: ReportOptions): { html: string; charts: Chart[]; res: SweepResults } {
  const res = collectResults(dir, { sort: opts.metric });
  const metric = res.sort.key;
  const label = metric === 'best' ? `best ${res.monitor}` : metric;
  const charts: Chart[] = [];
  const axesNoSeed = res.axes.filter((a) => a !== 'seed');
  const distinct = (a: string) => new Set(res.rows.map((r) => formatValue(r.axes[a]))).size;
  let axes = opts.axes ?? axesNoSeed.filter((a) => distinct(a) > 1).slice(0, 2);
  for (const a of axes) if (!res.axes.includes(a)) throw new UserError(`--axes: ${a} is not an axis of sweep ${res.sweep}; axes: ${res.axes.join(', ')}`);
  axes = axes.slice(0, 2);

  // mean over every other axis (seeds included) per cell
  const cellOf = new Map<string, { x: string; y: string; sum: number; n: number }>();
  for (const r of res.rows) {
    const v = r.metrics[metric];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const x = axes[0] ? formatValue(r.axes[axes[0]]) : 'all';
    const y = axes[1] ? formatValue(r.axes[axes[1]]) : '';
    const k = JSON.stringify([x, y]);
    const c = cellOf.get(k) ?? { x, y, sum: 0, n: 0 };
    c.sum += v;
    c.n += 1;
    cellOf.set(k, c);
  }
  const cells = [...cellOf.values()].map((c) => ({ x: c.x, y: c.y, value: c.sum / c.n, n: c.n }));
  if (cells.length && axes.length === 2) {
    charts.push(heatmapChart('heatmap', `${label}: ${axes[1]} × ${axes[0]} (mean over other axes and seeds)`, cells, { x: axes[0]!, y: axes[1]!, value: label }));
  } else if (cells.length) {
    charts.push(barChart('bars', `${label} by ${axes[0] ?? 'run'}`, cells.map((c) => ({ x: c.x, value: c.value })), { x: axes[0] ?? 'run', value: label }));
  }

  // curves of every run: the monitor and the training loss
  const monitorPts: SeriesPoint[] = [];
  const lossPts: SeriesPoint[] = [];
  for (const r of res.rows) {
    const runDir = join(dir, r.run);
    if (!existsSync(join(runDir, 'meta.json'))) continue;
    const records = RunStore.read(runDir).metrics();
    monitorPts.push(...series(records, [res.monitor], () => r.run));
    lossPts.push(...series(records, ['train/loss'], () => r.run));
  }
  if (monitorPts.length) charts.push(lineChart('sweep-monitor', `${res.monitor} per run`, monitorPts, { y: res.monitor }));
  if (lossPts.length) charts.push(lineChart('sweep-loss', 'Training loss per run', lossPts, { y: 'loss' }));

  const col = (c: string) => (c === 'best' ? `best ${res.monitor}` : c);
  let groupsHtml = '';
  if (res.groups) {
    groupsHtml = `<h3>Mean ± std over seeds</h3>${table(
      [...axesNoSeed, 'n', ...res.columns.map(col)],
      res.groups.map((g) => [...axesNoSeed.map((a) => formatValue(g.axes[a])), `${g.n}/${g.runs.length}`, ...res.columns.map((c) => (g.mean[c] === undefined ? '' : `${num(g.mean[c])} ± ${num(g.std[c])}`))]),
      'results',
    )}`;
  }
  const runsHtml = table(
    ['run', ...res.axes, 'status', ...res.columns.map(col)],
    res.rows.map((r) => [r.run, ...res.axes.map((a) => formatValue(r.axes[a])), r.status, ...res.columns.map((c) => num(r.metrics[c]))]),
    'results',
  );
  const counts = res.rows.reduce<Record<string, number>>((m, r) => ((m[r.status] = (m[r.status] ?? 0) + 1), m), {});
  const html = `<section>
<h2>Sweep ${esc(res.sweep)}</h2>
<p>${res.rows.length} runs (${Object.entries(counts).map(([k, v]) => `${v} ${esc(k)}`).join(', ')}); axes: ${res.axes.map((a) => `<code>${esc(a)}</code>`).join(', ') || 'none'}; sorted by ${esc(col(metric))} (${res.sort.mode === 'max' ? 'highest' : 'lowest'} first).</p>
<h3>Ablation</h3>
<div class="charts">${charts.filter((c) => c.id === 'heatmap' || c.id === 'bars').map(chartDiv).join('\n')}</div>
${groupsHtml}
<h3>Runs</h3>
${runsHtml}
<h3>Curves</h3>
<div class="charts">${charts.filter((c) => c.id.startsWith('sweep-')).map(chartDiv).join('\n')}</div>
</section>`;
  return { html, charts, res };
}

let vegaRuntime: string | undefined;

/** Vega's browser build, inlined into every report. */
function vegaJs(): string {
  if (!vegaRuntime) {
    const schema = createRequire(import.meta.url).resolve('vega/vega-schema.json');
    vegaRuntime = readFileSync(join(dirname(schema), 'vega.min.js'), 'utf8');
  }
  return vegaRuntime;
}

/** JSON inside a <script>: no `</script>` or `<!--` can close or comment it. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#1d1d1f}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f7}table.results td{font-variant-numeric:tabular-nums}table.facts thead{display:none}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart-box{margin:0;border:1px solid #e5e5e5;border-radius:6px;padding:8px}
figcaption{font-weight:600;margin-bottom:4px}.note{color:#555;font-size:12px}code{background:#f5f5f7;padding:0 3px;border-radius:3px}
#errors{color:#b00020;white-space:pre-wrap}.meta{color:#666;font-size:12px}`;

function page(title: string, body: string, charts: Chart[]): string {
  const specs = Object.fromEntries(charts.map((c) => [c.id, c.spec]));
  const runtime = vegaJs().replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">generated ${esc(new Date().toISOString())} by dfdet exp report · self-contained (charts: Vega, inlined)</p>
<div id="errors"></div>
${body}
<script>${runtime}</script>
<script>
(function () {
  var specs = ${scriptJson(specs)};
  var errors = document.getElementById('errors');
  function fail(id, e) { errors.textContent += 'chart ' + id + ': ' + (e && e.message ? e.message : e) + '\\n'; console.error('chart ' + id, e); }
  var pending = [];
  document.querySelectorAll('[data-chart]').forEach(function (el) {
    var id = el.getAttribute('data-chart');
    try {
      var view = new vega.View(vega.parse(specs[id]), { renderer: 'svg', container: el, hover: true });
      pending.push(view.runAsync().then(function () { el.setAttribute('data-rendered', 'true'); }, function (e) { fail(id, e); }));
    } catch (e) { fail(id, e); }
  });
  Promise.all(pending).then(function () { document.body.setAttribute('data-charts-done', String(pending.length)); });
})();
</script>
</body></html>
`;
}

/** `exp report`: one self-contained HTML file for a run folder or a sweep folder. */
export function buildReport(dirArg: string, opts: ReportOptions = {}): Report {
  const dir = resolve(dirArg);
  const isSweep = existsSync(join(dir, 'sweep.yaml'));
  const isRun = existsSync(join(dir, 'meta.json'));
  if (!isSweep && !isRun) throw new UserError(`${dirArg}: not a run folder (meta.json) or a sweep folder (sweep.yaml)`);
  const output = resolve(opts.output ?? join(dir, 'report.html'));
  if (isSweep) {
    const { html, charts, res } = sweepSection(dir, opts);
    return { kind: 'sweep', html: page(`Sweep ${res.sweep}`, html, charts), charts, output };
  }
  if (opts.axes?.length) throw new UserError('--axes applies to sweep folders');
  const { html, charts } = runSection(dir);
  const meta = RunStore.read(dir).meta();
  let configHtml = '';
  const cfgFile = join(dir, 'config.yaml');
  if (existsSync(cfgFile)) {
    const text = readFileSync(cfgFile, 'utf8');
    parse(text); // a broken config is reported as such, not shown
    configHtml = `<section><h2>Config</h2><details><summary>config.yaml</summary><pre>${esc(text)}</pre></details></section>`;
  }
  return { kind: 'run', html: page(`Run ${meta.experiment}/${meta.run || basename(dir)}`, html + configHtml, charts), charts, output };
}

export function writeReport(dir: string, opts: ReportOptions = {}): Report {
  const report = buildReport(dir, opts);
  writeFileAtomic(report.output, report.html);
  return report;
}
