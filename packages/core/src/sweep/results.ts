import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { readSweepRecord, type SweepRecord } from './plan.js';
import { formatValue, type Assignment } from './spec.js';
import { readMeta, type SweepRunStatus } from './state.js';

/** One run's row: axis values, status and flat metrics from its summary.json. */
export interface ResultRow {
  run: string;
  status: SweepRunStatus;
  axes: Assignment;
  /** `best` (the monitor's best value), `best_step`, `final/<metric>`, `test/<dataset>/<level>/<metric>`. */
  metrics: Record<string, number>;
}

/** Runs that differ only in `seed`, with mean and sample standard deviation of each metric. */
export interface ResultGroup {
  axes: Assignment;
  runs: string[];
  /** Completed runs (those whose metrics count). */
  n: number;
  mean: Record<string, number>;
  std: Record<string, number>;
}

export interface SweepResults {
  sweep: string;
  monitor: string;
  mode: 'max' | 'min';
  axes: string[];
  /** The metric key rows are sorted by, and its direction. */
  sort: { key: string; mode: 'max' | 'min' };
  rows: ResultRow[];
  /** Present when the sweep has more than one seed. */
  groups?: ResultGroup[];
  /** Metric columns of the markdown tables. */
  columns: string[];
}

/** Flattens summary.json: best, final metrics and test results. */
export function summaryMetrics(summary: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!summary) return out;
  const best = summary.best as { value?: unknown; step?: unknown } | null | undefined;
  if (typeof best?.value === 'number') out.best = best.value;
  if (typeof best?.step === 'number') out.best_step = best.step;
  for (const [k, v] of Object.entries((summary.final as Record<string, unknown> | undefined) ?? {})) if (typeof v === 'number') out[`final/${k}`] = v;
  const test = summary.test;
  if (Array.isArray(test)) {
    for (const r of test as { dataset?: string; frame?: Record<string, unknown>; video?: Record<string, unknown> }[]) {
      for (const level of ['frame', 'video'] as const) {
        for (const [k, v] of Object.entries(r[level] ?? {})) if (typeof v === 'number') out[`test/${r.dataset}/${level}/${k}`] = v;
      }
    }
  }
  return out;
}

function readJson(file: string): Record<string, unknown> | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The metric key `--sort m` means: the key itself, `final/m`, or `best` for the monitor. */
export function resolveSortKey(m: string | undefined, monitor: string, keys: Set<string>): string {
  if (!m || m === 'best' || m === monitor || m === `best/${monitor}`) return 'best';
  if (keys.has(m)) return m;
  if (keys.has(`final/${m}`)) return `final/${m}`;
  return m;
}

function directionOf(key: string, monitor: string, mode: 'max' | 'min'): 'max' | 'min' {
  if (key === 'best' || key.split('/').at(-1) === monitor.split('/').at(-1)) return mode;
  return /loss|eer|error|step/i.test(key) ? 'min' : 'max';
}

export interface CollectOptions {
  sort?: string;
  /** Extra metric columns for the markdown tables. */
  metrics?: string[];
}

/** Reads every run of a sweep folder (sweep.yaml) into rows and seed groups. */
export function collectResults(sweepDir: string, opts: CollectOptions = {}): SweepResults {
  const rec: SweepRecord = readSweepRecord(sweepDir);
  const rows: ResultRow[] = rec.runs.map((r) => {
    const dir = join(sweepDir, r.name);
    const meta = readMeta(dir);
    const state = readJson(join(sweepDir, 'state.json')) as { runs?: Record<string, { status?: SweepRunStatus }> } | undefined;
    const status: SweepRunStatus = meta?.status ?? state?.runs?.[r.name]?.status ?? 'pending';
    return { run: r.name, status, axes: r.axes, metrics: summaryMetrics(readJson(join(dir, 'summary.json'))) };
  });
  const keys = new Set(rows.flatMap((r) => Object.keys(r.metrics)));
  const sortKey = resolveSortKey(opts.sort ?? rec.results?.sort, rec.monitor, keys);
  const sortMode = directionOf(sortKey, rec.monitor, rec.mode);
  const cmp = (a: number | undefined, b: number | undefined) => {
    if (a === undefined || Number.isNaN(a)) return b === undefined || Number.isNaN(b) ? 0 : 1;
    if (b === undefined || Number.isNaN(b)) return -1;
    return sortMode === 'max' ? b - a : a - b;
  };
  rows.sort((a, b) => cmp(a.metrics[sortKey], b.metrics[sortKey]));

  const seeds = new Set(rec.runs.map((r) => JSON.stringify(r.axes.seed)));
  let groups: ResultGroup[] | undefined;
  if (rec.axes.includes('seed') && seeds.size > 1) {
    const byKey = new Map<string, ResultRow[]>();
    for (const r of rows) {
      const { seed: _s, ...rest } = r.axes;
      const k = JSON.stringify(rest);
      byKey.set(k, [...(byKey.get(k) ?? []), r]);
    }
    groups = [...byKey.values()].map((members) => {
      const { seed: _s, ...axes } = members[0]!.axes;
      const done = members.filter((m) => m.status === 'completed');
      const mean: Record<string, number> = {};
      const std: Record<string, number> = {};
      const mkeys = new Set(done.flatMap((m) => Object.keys(m.metrics)));
      for (const k of mkeys) {
        const vals = done.map((m) => m.metrics[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (!vals.length) continue;
        const mu = vals.reduce((s, v) => s + v, 0) / vals.length;
        mean[k] = mu;
        std[k] = vals.length > 1 ? Math.sqrt(vals.reduce((s, v) => s + (v - mu) ** 2, 0) / (vals.length - 1)) : 0;
      }
      return { axes, runs: members.map((m) => m.run), n: done.length, mean, std };
    });
    groups.sort((a, b) => cmp(a.mean[sortKey], b.mean[sortKey]));
  }

  const leaf = rec.monitor.split('/');
  const testCols = [...keys].filter((k) => k.startsWith('test/') && k.endsWith(`/${leaf.slice(-2).join('/')}`)).sort();
  const columns = [...new Set(['best', `final/${rec.monitor}`, 'final/train/loss', ...testCols, ...(opts.metrics ?? rec.results?.metrics ?? []).map((m) => resolveSortKey(m, rec.monitor, keys)), sortKey])].filter(
    (c) => keys.has(c) || c === 'best',
  );
  return { sweep: rec.sweep, monitor: rec.monitor, mode: rec.mode, axes: rec.axes, sort: { key: sortKey, mode: sortMode }, rows, groups, columns };
}

const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4));

function colLabel(c: string, monitor: string): string {
  if (c === 'best') return `best ${monitor}`;
  return c;
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function resultsMarkdown(res: SweepResults): string {
  const axes = res.axes;
  const parts: string[] = [
    `## Sweep ${res.sweep}: ${res.rows.length} runs, sorted by ${colLabel(res.sort.key, res.monitor)} (${res.sort.mode === 'max' ? 'highest' : 'lowest'} first)`,
  ];
  if (res.groups) {
    const axesNoSeed = axes.filter((a) => a !== 'seed');
    parts.push(
      `\n### Mean ± std over seeds\n\n${mdTable(
        [...axesNoSeed, 'n', ...res.columns.map((c) => colLabel(c, res.monitor))],
        res.groups.map((g) => [
          ...axesNoSeed.map((a) => formatValue(g.axes[a])),
          `${g.n}/${g.runs.length}`,
          ...res.columns.map((c) => (g.mean[c] === undefined ? '' : `${num(g.mean[c])} ± ${num(g.std[c])}`)),
        ]),
      )}`,
    );
    parts.push('\n### Runs');
  }
  parts.push(
    `\n${mdTable(
      ['run', ...axes, 'status', ...res.columns.map((c) => colLabel(c, res.monitor))],
      res.rows.map((r) => [r.run, ...axes.map((a) => formatValue(r.axes[a])), r.status, ...res.columns.map((c) => num(r.metrics[c]))]),
    )}`,
  );
  return `${parts.join('\n')}\n`;
}

function csvCell(v: unknown): string {
  const s = v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Every run, every metric: one CSV row per run. */
export function resultsCsv(res: SweepResults): string {
  const metricKeys = [...new Set(res.rows.flatMap((r) => Object.keys(r.metrics)))].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const header = ['run', ...res.axes, 'status', ...metricKeys];
  const lines = res.rows.map((r) => [r.run, ...res.axes.map((a) => r.axes[a]), r.status, ...metricKeys.map((k) => r.metrics[k])].map(csvCell).join(','));
  return `${[header.map(csvCell).join(','), ...lines].join('\n')}\n`;
}

/** Seed groups: mean and std columns per metric. */
export function groupsCsv(res: SweepResults): string | undefined {
  if (!res.groups) return undefined;
  const axes = res.axes.filter((a) => a !== 'seed');
  const metricKeys = [...new Set(res.groups.flatMap((g) => Object.keys(g.mean)))].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const header = [...axes, 'n', 'runs', ...metricKeys.flatMap((k) => [`${k} mean`, `${k} std`])];
  const lines = res.groups.map((g) => [...axes.map((a) => g.axes[a]), g.n, g.runs.join(' '), ...metricKeys.flatMap((k) => [g.mean[k], g.std[k]])].map(csvCell).join(','));
  return `${[header.map(csvCell).join(','), ...lines].join('\n')}\n`;
}

function order(k: string): number {
  return k === 'best' ? 0 : k === 'best_step' ? 1 : k.startsWith('final/') ? 2 : 3;
}

/** results.md, results.csv (+ results-seeds.csv) and results.json in the sweep folder. */
export function writeResults(sweepDir: string, res: SweepResults): string[] {
  const files = [join(sweepDir, 'results.md'), join(sweepDir, 'results.csv'), join(sweepDir, 'results.json')];
  writeFileAtomic(files[0]!, resultsMarkdown(res));
  writeFileAtomic(files[1]!, resultsCsv(res));
  writeJsonAtomic(files[2]!, res);
  const g = groupsCsv(res);
  if (g) {
    files.push(join(sweepDir, 'results-seeds.csv'));
    writeFileAtomic(files[3]!, g);
  }
  return files;
}
