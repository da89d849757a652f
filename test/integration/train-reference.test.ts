import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '@dfdet/models';
import { availableEngines, buildRegistry } from '@dfdet/core';
import { runCli } from './cli-run.js';

const BACKENDS = Object.keys(await availableEngines(await buildRegistry([])));

const FIX = resolve(__dirname, '../fixtures/clip-tiny');
const ref = JSON.parse(readFileSync(join(FIX, 'train_ref.json'), 'utf8'));
const ourName = (n: string) => (n === 'head.W' ? 'head.weight' : n === 'head.b' ? 'head.bias' : n);

function experiment(dir: string, extra = '') {
  const head = join(dir, 'head.safetensors');
  writeSafetensors(head, {
    'head.weight': { shape: [2, 32], data: Float32Array.from(ref.inputs.head.W.flat()) },
    'head.bias': { shape: [2], data: Float32Array.from(ref.inputs.head.b) },
  });
  writeFileSync(
    join(dir, 'exp.yaml'),
    `name: adamw-ref
plugins: [${JSON.stringify(resolve(__dirname, 'fixture-dataset.ts'))}]
engine: {backend: "\${env:BACKEND}"}
output: {dir: ${JSON.stringify(join(dir, 'runs'))}}
loggers: []
model:
  backbone: {name: clip-vit, weights: ${JSON.stringify(FIX)}}
  peft: {name: ln-tuning}
  head: {name: linear-norm}
  init_from: {path: ${JSON.stringify(head)}, include: ['^head\\.']}
loss: {ce: {weight: 1.0}}
data: {train: [{name: clip-tiny-images}], batch_size: 3, workers: 0}
optim: {lr: 0.001, weight_decay: 0.01}
schedule: {name: constant}
trainer: {max_steps: 2}
${extra}`,
  );
  return join(dir, 'exp.yaml');
}

describe.each(BACKENDS)('exp run on %s', (backend) => {
  it('two AdamW steps of LN-tuning from init_from match the PyTorch reference', async () => {
    process.env.BACKEND = backend;
    const dir = mkdtempSync(join(tmpdir(), 'dfdet-train-'));
    const r = await runCli(['run', experiment(dir), '--run', 'r1']);
    expect(r.code, r.err + r.out).toBe(0);
    const runDir = join(dir, 'runs', 'adamw-ref', 'r1');
    const saved = readSafetensors(join(runDir, 'checkpoints', 'last.safetensors'));
    const want = ref.f64.g_adamw.params_after_step2 as Record<string, number[] | number[][]>;
    for (const [name, values] of Object.entries(want)) {
      const got = saved.get(ourName(name));
      expect(got, name).toBeDefined();
      const flat = (values as number[]).flat(2) as number[];
      const diff = Math.max(...flat.map((v, i) => Math.abs(v - got!.data[i]!)));
      expect(diff, name).toBeLessThan(1e-6);
    }
    // only trainable parameters (and optimizer moments) are saved
    expect([...saved.keys()].filter((k) => !k.startsWith('optimizer.')).sort()).toEqual(Object.keys(want).map(ourName).sort());
    const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2]);
    expect(metrics[0]['train/loss']).toBeCloseTo(ref.f64.g_adamw.loss_before_step1, 5);
    expect(metrics[1]['train/loss']).toBeCloseTo(ref.f64.g_adamw.loss_before_step2, 5);
    const meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({ status: 'completed', engine: { backend, device: 'cpu' } });
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))).toMatchObject({ steps: 2, status: 'completed' });
  });
});
