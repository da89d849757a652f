import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdamW, tf } from '@dfdet/core';
import { ClipVisionModel, defaultInit, type ClipVisionConfig } from '@dfdet/models';
import { nativeTensorCount, useTorchBackend } from '../src/index.js';
import { useFusedOps } from '../bench/fused-model.js';
import { lnTuning } from '../bench/steps.js';
import { DEVICE, describeTorch } from './helpers.js';

/** Big enough that one step's activations (≈ 20 MB) would show in RSS if they leaked. */
const CONFIG: ClipVisionConfig = {
  hidden_size: 128,
  intermediate_size: 512,
  num_attention_heads: 4,
  num_hidden_layers: 2,
  image_size: 64,
  patch_size: 8,
  num_channels: 3,
  projection_dim: 64,
  layer_norm_eps: 1e-5,
  hidden_act: 'quick_gelu',
};

// RSS is sampled after a full GC: without it, V8's own garbage (read-back typed arrays, tfjs
// bookkeeping) grows RSS by ~0.3 MB a step until V8 decides to collect, which says nothing of leaks.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Tensors that @dfdet/core's AdamW leaves behind for these parameters: its constructor does
 * `tf.variable(tf.zerosLike(p), false)` and never disposes the zerosLike tensors (a core bug,
 * on every backend), so they outlive `dispose()`.
 */
function adamwResidue(params: Map<string, tf.Variable>): number {
  const before = tf.memory().numTensors;
  new AdamW(params, { lr: 1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, no_decay: [] }).dispose();
  const residue = tf.memory().numTensors - before;
  return residue;
}

let trainedParams = 0;

function train(fused: boolean) {
  const model = new ClipVisionModel(CONFIG, defaultInit(3));
  if (fused) useFusedOps(model);
  const tuning = lnTuning(model);
  trainedParams = model.namedParameters().filter(([, v]) => v.trainable).length + 2; // + the head
  const pixels = tf.randomNormal([8, 3, 64, 64], 0, 1, 'float32', 5) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 0, 1, 1, 0, 0, 1], 'int32');
  const samples: { tensors: number; native: number; rss: number; loss: number }[] = [];
  for (let i = 0; i < 20; i++) {
    const loss = tuning.step(pixels, labels);
    gc();
    samples.push({ tensors: tf.memory().numTensors, native: nativeTensorCount(), rss: process.memoryUsage.rss(), loss });
  }
  tuning.dispose();
  model.dispose();
  tf.dispose([pixels, labels]);
  return samples;
}

describeTorch('torch backend memory over 20 LN-tuning steps', () => {
  beforeAll(() => useTorchBackend({ device: DEVICE }));
  afterAll(() => useTorchBackend({ device: DEVICE }));

  it.each([
    ['per-op model', false],
    ['fused ops', true],
  ] as const)('%s: flat tfjs and native tensor counts, flat RSS, no leak after dispose', async (_n, fused) => {
    await useTorchBackend({ device: DEVICE });
    const probe = new Map([...Array(4).keys()].map((i) => [String(i), tf.tidy(() => tf.variable(tf.zeros([1])))] as const));
    const perParam = adamwResidue(probe) / probe.size;
    for (const v of probe.values()) v.dispose();
    const tensors0 = tf.memory().numTensors;
    const native0 = nativeTensorCount();
    const s = train(fused);
    // every step ends with the same number of live tensors, tfjs and native alike
    expect(new Set(s.map((x) => x.tensors)).size).toBe(1);
    expect(new Set(s.map((x) => x.native)).size).toBe(1);
    expect(s.every((x) => Number.isFinite(x.loss))).toBe(true);
    // after the first steps (allocator warm-up), RSS stays within a few MB (a leaked step's
    // activations would be several MB a step)
    const growth = (s[19]!.rss - s[4]!.rss) / 2 ** 20;
    expect(growth, `RSS grew ${growth.toFixed(1)} MB over steps 5-20`).toBeLessThan(8);
    // after dispose, only AdamW's leftover zerosLike tensors remain (see adamwResidue)
    const leftover = tf.memory().numTensors - tensors0;
    expect(leftover).toBe(perParam * trainedParams);
    expect(nativeTensorCount() - native0).toBe(leftover);
  });
});
