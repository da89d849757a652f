import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RunStore } from '../../src/runstore/run-store.js';
import { buildReport } from '../../src/report/report.js';
import { parseCsv, rocCurve, videoLevel } from '../../src/report/roc.js';

/** A finished run folder with curves, a summary and test predictions (no training needed). */
function fakeRun(root: string, experiment: string, name: string, opts: { lr?: number; seed?: number; quality?: number } = {}): string {
  const run = new RunStore(root).open({ experiment, run: name, config: { name: experiment, seed: opts.seed ?? 0 } });
  const q = opts.quality ?? 0.8;
  for (let step = 1; step <= 20; step++) {
    const loss = 0.7 * Math.exp(-step / (10 * q)) + 0.05;
    run.appendMetrics({ step, epoch: 0, 'train/loss': loss, 'train/loss/ce': loss * 0.9, 'train/loss/uniformity': loss * 0.1, 'train/lr': (opts.lr ?? 1e-3) * (1 - step / 21), time: new Date().toISOString() });
    if (step % 5 === 0) {
      run.appendMetrics({ step, epoch: 0, 'val/frame/auroc': q - 0.2 / step, 'val/video/auroc': q - 0.1 / step, 'val/video/mAP': q - 0.15 / step, 'val/frame/eer': 0.3 / step, 'val/frame/n': 40 });
    }
  }
  mkdirSync(run.path('eval'), { recursive: true });
  const rows = ['path,video,label,p_fake'];
  for (let i = 0; i < 40; i++) {
    const label = i % 2;
    rows.push(`"/data/img, ${i}.png",v${i % 10},${label},${(label ? q : 1 - q) * 0.5 + ((i * 37) % 11) / 22}`);
  }
  writeFileSync(run.path('eval', 'predictions-celeb-df.csv'), `${rows.join('\n')}\n`);
  run.writeSummary({
    status: 'completed',
    steps: 20,
    total_steps: 20,
    monitor: 'val/video/auroc',
    best: { value: q - 0.005, step: 20 },
    final: { 'train/loss': 0.1, 'val/video/auroc': q - 0.005, 'val/frame/auroc': q - 0.01 },
    test: [{ dataset: 'celeb-df', frame: { auroc: q - 0.1, mAP: q - 0.05, eer: 0.2, accuracy: 0.7 }, video: { auroc: q, mAP: q, eer: 0.15, accuracy: 0.75 } }],
  });
  run.finish('completed');
  return run.dir;
}

/** A sweep folder as exp sweep leaves it: sweep.yaml and run folders. */
function fakeSweep(root: string): string {
  const dir = join(root, 'abl');
  const runs: { name: string; axes: Record<string, unknown>; overrides: string[] }[] = [];
  for (const peft of ['ln-tuning', 'lora']) {
    for (const w of [0, 0.5]) {
      for (const seed of [0, 1]) {
        const name = `${peft}-u${w}-s${seed}`;
        fakeRun(root, 'abl', name, { seed, quality: 0.7 + (peft === 'lora' ? 0.1 : 0) + w * 0.1 + seed * 0.01 });
        runs.push({ name, axes: { 'model.peft.name': peft, 'loss.uniformity.weight': w, seed }, overrides: [] });
      }
    }
  }
  writeFileSync(
    join(dir, 'sweep.yaml'),
    stringify({ sweep: 'abl', file: 'x.yaml', experiment: [], output_dir: root, axes: ['model.peft.name', 'loss.uniformity.weight', 'seed'], monitor: 'val/video/auroc', mode: 'max', launcher: { name: 'local' }, results: {}, runs }),
  );
  return dir;
}

describe('ROC', () => {
  it('computes the curve and its AUC (the Mann-Whitney statistic), thinned, and reads quoted CSV', () => {
    const preds = [0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.55].map((p, i) => ({ video: `v${i}`, label: i % 2, pFake: p }));
    const roc = rocCurve(preds)!;
    let wins = 0;
    for (const a of preds.filter((p) => p.label === 1)) for (const b of preds.filter((p) => p.label === 0)) wins += a.pFake > b.pFake ? 1 : a.pFake === b.pFake ? 0.5 : 0;
    expect(roc.auc).toBeCloseTo(wins / 16, 12);
    expect(roc.points[0]).toEqual({ fpr: 0, tpr: 0 });
    expect(roc.points.at(-1)).toEqual({ fpr: 1, tpr: 1 });
    expect(rocCurve(preds.filter((p) => p.label === 1))).toBeUndefined();
    const many = Array.from({ length: 5000 }, (_, i) => ({ video: 'v', label: i % 2, pFake: Math.sin(i) }));
    expect(rocCurve(many, 100)!.points).toHaveLength(100);
    expect(videoLevel([{ video: 'a', label: 1, pFake: 0.2 }, { video: 'a', label: 1, pFake: 0.4 }])).toEqual([{ video: 'a', label: 1, pFake: 0.30000000000000004 }]);
    expect(parseCsv('a,b\n"x, ""y""",2\r\n')).toEqual([['a', 'b'], ['x, "y"', '2']]);
  });
});

describe('exp report', () => {
  it('writes one self-contained HTML file for a run: curves, ROC, no external resources', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dfdet-report-'));
    const dir = fakeRun(root, 'exp', 'r1');
    const report = buildReport(dir);
    expect(report.kind).toBe('run');
    expect(report.charts.map((c) => c.id)).toEqual(['loss', 'lr', 'val', 'roc']);
    expect(report.html).not.toMatch(/<(script|img|link|iframe)[^>]+(src|href)=/i);
    expect(report.html).toContain("default-src 'none'");
    expect(report.html).toContain('celeb-df frame (AUC');
    const code = await main(['report', dir, '--output', join(root, 'out.html')]);
    expect(code).toBe(0);
    expect(existsSync(join(root, 'out.html'))).toBe(true);
  });

  it('a sweep report has the ablation table, a heatmap over the chosen axes and per-run curves', () => {
    const root = mkdtempSync(join(tmpdir(), 'dfdet-report-sweep-'));
    const dir = fakeSweep(root);
    const report = buildReport(dir, { axes: ['loss.uniformity.weight', 'model.peft.name'] });
    expect(report.charts.map((c) => c.id)).toEqual(['heatmap', 'sweep-monitor', 'sweep-loss']);
    expect(report.charts[0]!.title).toContain('model.peft.name × loss.uniformity.weight');
    expect(report.html).toContain('Mean ± std over seeds');
    expect(report.html).toContain('lora-u0.5-s1');
    expect(() => buildReport(dir, { axes: ['nope'] })).toThrow(/not an axis/);
    const bars = buildReport(dir, { axes: ['model.peft.name'], metric: 'final/train/loss' });
    expect(bars.charts[0]!.id).toBe('bars');
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  it.skipIf(!chromium)('renders in headless Chromium: every chart has a non-empty SVG, no console errors, no network', async (ctx) => {
    if (!chromium) return ctx.skip();
    const { chromium: pw } = await import('playwright-core');
    const root = mkdtempSync(join(tmpdir(), 'dfdet-report-browser-'));
    const runReport = buildReport(fakeRun(root, 'exp', 'r1'), { output: join(root, 'run.html') });
    const sweepReport = buildReport(fakeSweep(root), { output: join(root, 'sweep.html') });
    writeFileSync(runReport.output, runReport.html);
    writeFileSync(sweepReport.output, sweepReport.html);
    const browser = await pw.launch({
      executablePath: chromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    try {
      for (const r of [runReport, sweepReport]) {
        const page = await browser.newPage();
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(`${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (q) => requests.push(q.url()));
        await page.goto(`file://${r.output}`);
        await page.waitForSelector('body[data-charts-done]', { timeout: 15_000 });
        const charts = await page.$$eval('[data-chart]', (els) =>
          els.map((e) => {
            const svg = e.querySelector('svg');
            const box = svg?.getBoundingClientRect();
            return { id: e.getAttribute('data-chart'), rendered: e.getAttribute('data-rendered'), w: box?.width ?? 0, h: box?.height ?? 0, marks: svg?.querySelectorAll('path, rect, line').length ?? 0 };
          }),
        );
        expect(charts.map((c) => c.id)).toEqual(r.charts.map((c) => c.id));
        for (const c of charts) {
          expect(c.rendered, c.id!).toBe('true');
          expect(c.w, c.id!).toBeGreaterThan(100);
          expect(c.h, c.id!).toBeGreaterThan(50);
          expect(c.marks, c.id!).toBeGreaterThan(5);
        }
        expect(await page.textContent('#errors')).toBe('');
        expect(problems).toEqual([]);
        expect(requests).toEqual([`file://${r.output}`]);
        await page.close();
      }
    } finally {
      await browser.close();
    }
  });
  if (!chromium) console.warn('report browser check skipped: chromium is not installed (apt-get install chromium)');
});
