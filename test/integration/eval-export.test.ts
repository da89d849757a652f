import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPredictionsCsv } from '@dfdet/datasets';
import { runCli } from './cli-run.js';

const FIX = resolve(__dirname, '../fixtures/clip-tiny');
let dir: string;
let runDir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dfdet-eval-'));
  writeFileSync(
    join(dir, 'exp.yaml'),
    `name: ev
plugins: [${JSON.stringify(resolve(__dirname, 'fixture-dataset.ts'))}]
engine: {backend: wasm}
output: {dir: ${JSON.stringify(join(dir, 'runs'))}}
loggers: []
model:
  backbone: {name: clip-vit, weights: ${JSON.stringify(FIX)}}
  peft: {name: lora, rank: 2, alpha: 8, target_modules: [q_proj, v_proj]}
  head: {name: linear-norm}
data: {train: [{name: clip-tiny-images, repeat: 2}], val: [{name: clip-tiny-images}], test: [{name: clip-tiny-images}], batch_size: 3, workers: 0}
optim: {lr: 0.05}
trainer: {max_steps: 3}
`,
  );
  const r = await runCli(['run', join(dir, 'exp.yaml'), '--run', 'r']);
  expect(r.code, r.err).toBe(0);
  runDir = join(dir, 'runs', 'ev', 'r');
}, 120_000);

describe('evaluation and export', () => {
  it('evaluates data.test after training into <run>/eval and prints the table', () => {
    for (const f of ['table.md', 'table.csv', 'results.json', 'roc.png', 'predictions-clip-tiny.csv']) expect(existsSync(join(runDir, 'eval', f)), f).toBe(true);
    const results = JSON.parse(readFileSync(join(runDir, 'eval', 'results.json'), 'utf8'));
    expect(results[0].dataset).toBe('clip-tiny');
    expect(results[0].frame.n).toBe(3);
    expect(results[0].video.n).toBe(3);
    const png = readFileSync(join(runDir, 'eval', 'roc.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(runDir, 'log.txt'), 'utf8')).toMatch(/test results \(best checkpoint\)[\s\S]*\| clip-tiny \| 3 \| 3 \|/);
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.test[0].dataset).toBe('clip-tiny');
  });

  it('exp eval recomputes the same predictions from the run folder; exp metrics agrees with results.json', async () => {
    const out = join(dir, 'eval2');
    const r = await runCli(['eval', '--checkpoint', runDir, '--backend', 'wasm', '--workers', '0', '--output', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/\| dataset \| frames \| videos \| frame mAP/);
    const a = readPredictionsCsv(join(runDir, 'eval', 'predictions-clip-tiny.csv'));
    const b = readPredictionsCsv(join(out, 'predictions-clip-tiny.csv'));
    expect(b.map((x) => x.path)).toEqual(a.map((x) => x.path));
    b.forEach((x, i) => expect(x.p_fake).toBeCloseTo(a[i]!.p_fake, 6));
    const m = await runCli(['metrics', '--predictions', join(out, 'predictions-clip-tiny.csv'), '--output', join(dir, 'm.json')]);
    expect(m.code, m.err).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8'));
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(json.frame).toEqual(results[0].frame);
    expect(json.video).toEqual(results[0].video);
  });

  it('exp export --merge-lora writes a standalone model that predicts like the run', async () => {
    const file = join(dir, 'merged.safetensors');
    const r = await runCli(['export', '--checkpoint', runDir, '--output', file, '--merge-lora']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/merged 4 LoRA module\(s\)/);
    const out = join(dir, 'eval3');
    const e = await runCli(['eval', '--checkpoint', file, '--config', join(dir, 'exp.yaml'), '--backend', 'wasm', '--workers', '0', '--output', out]);
    expect(e.code, e.err).toBe(0);
    const a = readPredictionsCsv(join(runDir, 'eval', 'predictions-clip-tiny.csv'));
    const b = readPredictionsCsv(join(out, 'predictions-clip-tiny.csv'));
    b.forEach((x, i) => expect(Math.abs(x.p_fake - a[i]!.p_fake)).toBeLessThan(1e-5));
  });

  it('exp metrics rejects a malformed predictions file with the line', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'path,video,label,p_fake\na.png,v,1,0.3\nb.png,v,2,0.1\n');
    const r = await runCli(['metrics', '--predictions', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.csv:3: label must be 0 \(real\) or 1 \(fake\), got "2"/);
  });
});
