import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '@dfdet/models';
import { runCli } from './cli-run.js';

const FIX = resolve(__dirname, '../fixtures/clip-tiny');
const ROOT = resolve(__dirname, '../..');

function writeExperiment(dir: string): string {
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    `name: resume
plugins: [${JSON.stringify(resolve(__dirname, 'fixture-dataset.ts'))}, ${JSON.stringify(resolve(__dirname, 'killer-logger.ts'))}]
engine: {backend: wasm}
output: {dir: ${JSON.stringify(join(dir, 'runs'))}}
loggers: []
model:
  backbone: {name: clip-vit, weights: ${JSON.stringify(FIX)}}
  peft: {name: lora, rank: 2, alpha: 4, dropout: 0.1, target_modules: [out_proj, fc1]}
  head: {name: linear-norm}
  feature_augmentation: {name: slerp}
loss: {ce: {weight: 1.0}, uniformity: {weight: 0.1}, alignment: {weight: 0.1}}
data:
  train: [{name: clip-tiny-images, repeat: 3}]
  val: [{name: clip-tiny-images}]
  batch_size: 2
  micro_batch_size: 1
  workers: 0
optim: {lr: 0.01}
schedule: {name: cosine, min_lr: 0.001}
trainer: {epochs: 2, val_every_n_steps: 4, checkpoint_every_n_steps: 2, monitor: val/frame/auroc}
`,
  );
  return file;
}

const params = (runDir: string) => {
  const t = readSafetensors(join(runDir, 'checkpoints', 'last.safetensors'));
  return new Map([...t].map(([k, v]) => [k, Array.from(v.data)]));
};

describe('resume', () => {
  it('a run killed mid-epoch resumes to the same parameters, metrics and best checkpoint as an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-resume-'));
    const file = writeExperiment(dir);
    const whole = await runCli(['run', file, '--run', 'whole']);
    expect(whole.code, whole.err).toBe(0);

    // hard kill at step 5: the last checkpoint is from step 4, metrics.jsonl already has step 5
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/core/src/cli/bin.ts'), 'run', file, '--run', 'killed', '--set', 'loggers=[{name: killer, at_step: 5}]'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const killedDir = join(dir, 'runs', 'resume', 'killed');
    expect(JSON.parse(readFileSync(join(killedDir, 'meta.json'), 'utf8')).status).toBe('running');

    const resumed = await runCli(['run', file, '--run', 'killed', '--resume', '--set', 'loggers=[]']);
    expect(resumed.code, resumed.err).toBe(0);

    const a = params(join(dir, 'runs', 'resume', 'whole'));
    const b = params(killedDir);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    expect([...a.keys()].some((k) => k.endsWith('lora_A'))).toBe(true);
    for (const [k, v] of a) expect(b.get(k), k).toEqual(v);

    const steps = (d: string) => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((m) => [m.step, m['train/loss'] ?? m['val/frame/auroc']]);
    expect(steps(killedDir)).toEqual(steps(join(dir, 'runs', 'resume', 'whole')));
    const meta = JSON.parse(readFileSync(join(killedDir, 'meta.json'), 'utf8'));
    expect(meta.status).toBe('completed');
    expect(meta.sessions).toHaveLength(2);
    const best = (d: string) => new Map([...readSafetensors(join(d, 'checkpoints', 'best.safetensors'))].map(([k, v]) => [k, Array.from(v.data)]));
    expect(best(killedDir)).toEqual(best(join(dir, 'runs', 'resume', 'whole')));
  });
});
