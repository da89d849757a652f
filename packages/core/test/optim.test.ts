import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW, clipGradNorm, learningRate, tf } from '../src/index.js';

const ref = JSON.parse(readFileSync(resolve(__dirname, '../../../test/fixtures/clip-tiny/train_ref.json'), 'utf8')).cosine_lr;

describe('learning-rate schedules', () => {
  it("cosine matches torch's CosineAnnealingLR stepped per optimizer step (relative 1e-12)", () => {
    for (let k = 0; k <= ref.T_max; k++) {
      const lr = learningRate(k, ref.base_lr, ref.T_max, { name: 'cosine', min_lr: ref.eta_min, warmup_steps: 0 });
      expect(Math.abs(lr - ref.lr_torch[k]) / ref.lr_torch[k]).toBeLessThan(1e-12);
    }
  });

  it('warms up linearly, then decays; constant and linear schedules', () => {
    const s = { name: 'cosine' as const, min_lr: 0, warmup_steps: 4 };
    expect([0, 1, 2, 3].map((k) => learningRate(k, 1, 14, s))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRate(4, 1, 14, s)).toBe(1);
    expect(learningRate(14, 1, 14, s)).toBeCloseTo(0, 12);
    expect(learningRate(7, 2, 10, { name: 'constant', min_lr: 0, warmup_steps: 0 })).toBe(2);
    expect(learningRate(5, 1, 10, { name: 'linear', min_lr: 0, warmup_steps: 0 })).toBeCloseTo(0.5, 12);
  });
});

describe('AdamW', () => {
  it('applies the torch update with decoupled decay only where allowed', async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.tensor1d([1, -2]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const opt = new AdamW(new Map([['head.weight', w], ['head.bias', b]]), { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.5, no_decay: ['bias'] });
    expect(opt.decays('head.weight')).toBe(true);
    expect(opt.decays('head.bias')).toBe(false);
    const g = new Map([['head.weight', tf.tensor1d([0.2, -0.4])], ['head.bias', tf.tensor1d([1])]]);
    opt.step(g, 0.1);
    // first step: m̂ = g, v̂ = g², update = lr·g/(|g|+eps) ≈ lr·sign(g)
    const wd = 1 - 0.1 * 0.5;
    expect(Array.from(w.dataSync())[0]).toBeCloseTo(1 * wd - 0.1 * (0.2 / (0.2 + 1e-8)), 6);
    expect(Array.from(w.dataSync())[1]).toBeCloseTo(-2 * wd + 0.1 * (0.4 / (0.4 + 1e-8)), 6);
    expect(b.dataSync()[0]).toBeCloseTo(0.5 - 0.1, 6);
    const state = opt.state();
    expect(state.step).toBe(1);
    expect([...state.tensors.keys()].sort()).toEqual(['exp_avg.head.bias', 'exp_avg.head.weight', 'exp_avg_sq.head.bias', 'exp_avg_sq.head.weight']);
    const restored = new AdamW(new Map([['head.weight', w], ['head.bias', b]]), { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.5, no_decay: ['bias'] });
    restored.loadState(state, 'test');
    expect(restored.stepCount).toBe(1);
    expect(() => restored.loadState({ step: 1, tensors: new Map() }, 'x.safetensors')).toThrow(/x\.safetensors: optimizer state lacks exp_avg\.head\.weight/);
  });

  it('clips the global gradient norm', async () => {
    await tf.setBackend('cpu');
    const grads = new Map<string, tf.Tensor>([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([4])]]);
    expect(clipGradNorm(grads, 1)).toBeCloseTo(5, 6);
    const norm = Math.hypot(...[...grads.values()].flatMap((g) => Array.from(g.dataSync())));
    expect(norm).toBeCloseTo(1, 5);
  });
});
