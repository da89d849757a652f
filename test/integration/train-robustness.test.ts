import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-run.js';

const FIX = resolve(__dirname, '../fixtures/clip-tiny');

function experiment(dir: string, body: string): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: robust
plugins: [${JSON.stringify(resolve(__dirname, 'fixture-dataset.ts'))}, ${JSON.stringify(resolve(__dirname, 'probe-logger.ts'))}]
engine: {backend: wasm}
output: {dir: ${JSON.stringify(join(dir, 'runs'))}}
model:
  backbone: {name: clip-vit, weights: ${JSON.stringify(FIX)}}
  peft: {name: ln-tuning}
  feature_augmentation: {name: slerp}
loss: {ce: {}, uniformity: {}, alignment: {}}
data: {train: [{name: clip-tiny-images, repeat: 4}], val: [{name: clip-tiny-images}], batch_size: 2, workers: 0}
${body}`,
  );
  return file;
}

describe('training robustness', () => {
  it('keeps the tensor count flat across steps (no leaks), validation included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-leak-'));
    const r = await runCli(['run', experiment(dir, 'loggers: [{name: tensor-probe}]\ntrainer: {max_steps: 20, val_every_n_steps: 5}\n'), '--run', 'a']);
    expect(r.code, r.err).toBe(0);
    const counts = (globalThis as Record<string, unknown>).__tensorCounts as number[];
    expect(counts).toHaveLength(20);
    expect(new Set(counts.slice(1)).size, `tensor counts ${counts.join(',')}`).toBe(1);
  });

  it('stops on a non-finite loss naming the step, keeping the last good checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-nan-'));
    const r = await runCli(['run', experiment(dir, 'loggers: []\noptim: {lr: 1.0e+30}\nschedule: {name: constant}\ntrainer: {max_steps: 50, checkpoint_every_n_steps: 1}\n'), '--run', 'a']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/loss is (NaN|Infinity|-Infinity) at step (\d+) \(epoch \d+, batch \d+\); training stopped, the last good checkpoint is .*last\.safetensors/);
    const runDir = join(dir, 'runs', 'robust', 'a');
    expect(existsSync(join(runDir, 'checkpoints', 'last.safetensors'))).toBe(true);
    const meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8'));
    expect(meta.status).toBe('failed');
    expect(meta.error).toMatch(/loss is/);
  });

  it('stops early after N validations without improvement', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-early-'));
    const r = await runCli(['run', experiment(dir, 'loggers: []\noptim: {lr: 1.0e-12}\nschedule: {name: constant}\ntrainer: {max_steps: 20, val_every_n_steps: 1, early_stopping_patience: 2}\n'), '--run', 'a']);
    expect(r.code, r.err).toBe(0);
    const runDir = join(dir, 'runs', 'robust', 'a');
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'));
    expect(summary.steps).toBe(3);
    expect(summary.best.step).toBe(1);
    expect(readFileSync(join(runDir, 'log.txt'), 'utf8')).toMatch(/early stopping at step 3: val\/video\/mAP did not improve in 2 validations/);
  });

  it('refuses to overwrite a finished run and validates the monitor key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-exists-'));
    const file = experiment(dir, 'loggers: []\ntrainer: {max_steps: 1, monitor: val/video/mapp}\n');
    const first = await runCli(['run', file, '--run', 'a']);
    expect(first.code).toBe(1);
    expect(first.err).toMatch(/trainer\.monitor: "val\/video\/mapp" is not a validation metric; available: /);
    const again = await runCli(['run', file, '--run', 'a']);
    expect(again.err).toMatch(/already exists; pass --resume to continue it or --force to replace it/);
  });
});
