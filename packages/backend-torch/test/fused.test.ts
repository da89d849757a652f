import { afterAll, beforeAll, expect, it } from 'vitest';
import { cpuEngine, tf } from '@dfdet/core';
import { attention, FUSED_KERNELS, layerNorm, nativeTensorCount, quickGelu, useTorchBackend } from '../src/index.js';
import { DEVICE, describeTorch, relErr, rng } from './helpers.js';

/**
 * The fused ops' two paths agree: native on torch (custom kernels + hand-written gradients) vs
 * the decomposition differentiated by tfjs on the cpu backend, forward and gradients.
 */
type Inputs = { shape: number[]; lo?: number; hi?: number }[];
interface FusedCase {
  name: string;
  inputs: Inputs;
  f: (...xs: tf.Tensor[]) => tf.Tensor;
}

const CASES: FusedCase[] = [
  { name: 'layerNorm [2, 7, 16]', inputs: [{ shape: [2, 7, 16], lo: -3, hi: 5 }, { shape: [16], lo: 0.5, hi: 1.5 }, { shape: [16] }], f: (x, w, b) => layerNorm(x!, w!, b!, 1e-5) },
  { name: 'layerNorm [5, 32] (pooled)', inputs: [{ shape: [5, 32] }, { shape: [32], lo: 0.5, hi: 1.5 }, { shape: [32] }], f: (x, w, b) => layerNorm(x!, w!, b!, 1e-5) },
  { name: 'quickGelu', inputs: [{ shape: [3, 5, 8], lo: -6, hi: 6 }], f: (x) => quickGelu(x!) },
  {
    name: 'attention (2 heads)',
    inputs: [{ shape: [2, 5, 8] }, { shape: [2, 5, 8] }, { shape: [2, 5, 8] }],
    f: (q, k, v) => attention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, 2, 4 ** -0.5),
  },
  {
    name: 'attention (4 heads, T = 17)',
    inputs: [{ shape: [3, 17, 32], lo: -3, hi: 3 }, { shape: [3, 17, 32] }, { shape: [3, 17, 32] }],
    f: (q, k, v) => attention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, 4, 8 ** -0.5),
  },
];

function run(c: FusedCase, seed: number): { out: number[]; grads: number[][] } {
  const next = rng(seed);
  const xs = c.inputs.map(({ shape, lo = -2, hi = 2 }) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + next() * (hi - lo)), shape));
  const out = c.f(...xs);
  const w = tf.tensor(Float32Array.from({ length: out.size }, () => next() * 2 - 1), out.shape);
  const grads = tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(c.f(...ys), w)) as tf.Scalar)(xs);
  const result = { out: Array.from(out.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  tf.dispose([...xs, out, w, ...grads]);
  return result;
}

describeTorch('fused ops: native on torch vs decomposed', () => {
  beforeAll(() => useTorchBackend({ device: DEVICE }));
  afterAll(() => useTorchBackend({ device: DEVICE }));

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_n, c, i) => {
    await cpuEngine().init({ device: 'cpu' });
    const ref = run(c, 7 + i);
    await useTorchBackend({ device: DEVICE });
    const tensors = tf.memory().numTensors;
    const native = nativeTensorCount();
    const got = run(c, 7 + i);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(nativeTensorCount()).toBe(native);
    expect(relErr(got.out, ref.out), 'forward').toBeLessThanOrEqual(1e-5);
    got.grads.forEach((g, k) => expect(relErr(g, ref.grads[k]!), `gradient ${k}`).toBeLessThanOrEqual(1e-5));
  });

  it('runs the native kernels on torch (one tfjs kernel per op)', async () => {
    await useTorchBackend({ device: DEVICE });
    const x = tf.randomNormal([2, 3, 8]) as tf.Tensor3D;
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        layerNorm(x, tf.ones([8]), tf.zeros([8]), 1e-5);
        quickGelu(x);
        attention(x, x, x, 2, 0.5);
      });
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names).toEqual(expect.arrayContaining([FUSED_KERNELS.layerNorm, FUSED_KERNELS.quickGelu, FUSED_KERNELS.attention]));
    expect(names).not.toContain('Softmax');
    x.dispose();
  });
});
