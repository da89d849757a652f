import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { collectResults, groupsCsv, resultsCsv, resultsMarkdown, summaryMetrics, writeResults } from '../../src/sweep/results.js';

function run(sweepDir: string, name: string, status: string, best?: number, loss?: number) {
  const dir = join(sweepDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ experiment: 's', run: name, status, started_at: '', sessions: [] }));
  if (best !== undefined) {
    writeFileSync(
      join(dir, 'summary.json'),
      JSON.stringify({
        status,
        monitor: 'val/video/mAP',
        best: { value: best, step: 10 },
        final: { 'train/loss': loss, 'val/video/mAP': best - 0.01, 'val/video/eer': 0.2 },
        test: [{ dataset: 'cdf', frame: { mAP: best - 0.1 }, video: { mAP: best - 0.05 } }],
      }),
    );
  }
}

function sweep(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'dfdet-results-')), 'abl');
  mkdirSync(dir, { recursive: true });
  const runs: { name: string; axes: Record<string, unknown>; overrides: string[] }[] = [];
  const vals: Record<string, [number, number][]> = { 'ln-tuning': [[0.8, 0.5], [0.84, 0.4]], lora: [[0.9, 0.3], [0.7, 0.6]] };
  for (const [peft, pairs] of Object.entries(vals)) {
    pairs.forEach(([best, loss], seed) => {
      const name = `${peft}-s${seed}`;
      run(dir, name, 'completed', best, loss);
      runs.push({ name, axes: { 'model.peft': { name: peft }, seed }, overrides: [] });
    });
  }
  run(dir, 'full-s0', 'failed');
  runs.push({ name: 'full-s0', axes: { 'model.peft': { name: 'full' }, seed: 0 }, overrides: [] });
  runs.push({ name: 'full-s1', axes: { 'model.peft': { name: 'full' }, seed: 1 }, overrides: [] });
  writeFileSync(join(dir, 'sweep.yaml'), stringify({ sweep: 'abl', axes: ['model.peft', 'seed'], monitor: 'val/video/mAP', mode: 'max', runs }));
  return dir;
}

describe('sweep results', () => {
  it('flattens summary.json: best, final and test metrics', () => {
    expect(summaryMetrics({ best: { value: 0.9, step: 3 }, final: { 'train/loss': 0.2, note: 'x' }, test: [{ dataset: 'd', frame: { auroc: 0.8 }, video: { auroc: 0.85 } }] })).toEqual({
      best: 0.9,
      best_step: 3,
      'final/train/loss': 0.2,
      'test/d/frame/auroc': 0.8,
      'test/d/video/auroc': 0.85,
    });
    expect(summaryMetrics(undefined)).toEqual({});
  });

  it('sorts by the monitor, groups runs that differ only in seed with mean ± sample std, and writes md/csv/json', () => {
    const dir = sweep();
    const res = collectResults(dir);
    expect(res.sort).toEqual({ key: 'best', mode: 'max' });
    expect(res.rows.map((r) => r.run)).toEqual(['lora-s0', 'ln-tuning-s1', 'ln-tuning-s0', 'lora-s1', 'full-s0', 'full-s1']);
    expect(res.rows.map((r) => r.status)).toEqual(['completed', 'completed', 'completed', 'completed', 'failed', 'pending']);
    expect(res.groups!.map((g) => [(g.axes['model.peft'] as { name: string }).name, g.n, g.runs.length])).toEqual([
      ['ln-tuning', 2, 2],
      ['lora', 2, 2],
      ['full', 0, 2],
    ]);
    const ln = res.groups![0]!;
    expect(ln.mean.best).toBeCloseTo(0.82, 12);
    expect(ln.std.best).toBeCloseTo(Math.sqrt(((0.8 - 0.82) ** 2 + (0.84 - 0.82) ** 2) / 1), 12);
    expect(res.groups![1]!.std.best).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(res.columns).toEqual(['best', 'final/val/video/mAP', 'final/train/loss', 'test/cdf/video/mAP']);

    const md = resultsMarkdown(res);
    expect(md).toContain('| model.peft | n | best val/video/mAP |');
    expect(md).toContain('| ln-tuning | 2/2 | 0.8200 ± 0.0283 |');
    expect(md).toContain('| lora-s0 | lora | 0 | completed | 0.9000 |');
    const csv = resultsCsv(res).trim().split('\n');
    expect(csv[0]).toBe('run,model.peft,seed,status,best,best_step,final/train/loss,final/val/video/eer,final/val/video/mAP,test/cdf/frame/mAP,test/cdf/video/mAP');
    expect(csv[1]).toBe('lora-s0,"{""name"":""lora""}",0,completed,0.9,10,0.3,0.2,0.89,0.8,0.85');
    expect(groupsCsv(res)!.split('\n')[0]).toContain('best mean,best std');
    const files = writeResults(dir, res);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['results.md', 'results.csv', 'results.json', 'results-seeds.csv']);
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).rows).toHaveLength(6);
  });

  it('--sort picks another metric and its direction (losses ascend)', () => {
    const dir = sweep();
    const byLoss = collectResults(dir, { sort: 'train/loss' });
    expect(byLoss.sort).toEqual({ key: 'final/train/loss', mode: 'min' });
    expect(byLoss.rows[0]!.run).toBe('lora-s0');
    expect(byLoss.groups![0]!.axes['model.peft']).toEqual({ name: 'lora' });
    const byTest = collectResults(dir, { sort: 'test/cdf/frame/mAP', metrics: ['val/video/eer'] });
    expect(byTest.sort).toEqual({ key: 'test/cdf/frame/mAP', mode: 'max' });
    expect(byTest.columns).toContain('final/val/video/eer');
    expect(byTest.columns).toContain('test/cdf/frame/mAP');
  });
});
