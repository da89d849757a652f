import { describe, expect, it } from 'vitest';
import { cpuEngine, PluginRegistry, pluginModule, tf, type Head } from '@dfdet/core';
import { headPlugins } from '../../src/heads/heads.js';

const registry = new PluginRegistry([pluginModule(...headPlugins)]);
const make = (cfg: { name: string; [k: string]: unknown }) => registry.create<Head & { head: { weight: tf.Variable; bias?: tf.Variable } }>('head', cfg, { seed: 3, registry, featureDim: 4 });

describe('heads', () => {
  it('linear-norm: logits = normalize(f) Wᵀ + b, params head.weight [2, D] and head.bias [2]', async () => {
    await cpuEngine().init({ device: 'cpu' });
    const h = await make({ name: 'linear-norm' });
    expect(h.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['head.weight', [2, 4]],
      ['head.bias', [2]],
    ]);
    const f = tf.tensor2d([[3, 0, 4, 0], [0, 0, 0, 2]]);
    const got = h.forward(f).arraySync();
    const W = h.head.weight.arraySync() as number[][];
    const b = h.head.bias!.arraySync() as number[];
    const z = [[0.6, 0, 0.8, 0], [0, 0, 0, 1]];
    z.forEach((row, i) => W.forEach((w, c) => expect(got[i]![c]).toBeCloseTo(row.reduce((s, v, k) => s + v * w[k]!, b[c]!), 6)));
    // scale invariance is what normalization buys
    expect(h.forward(tf.mul(f, 7) as tf.Tensor2D).arraySync()).toEqual(got.map((r) => r.map((v) => expect.closeTo(v, 5))));
    const bound = 1 / Math.sqrt(4);
    expect(W.flat().every((v) => Math.abs(v) <= bound)).toBe(true);
  });

  it('linear is not scale-invariant; cosine = scale × cos(f, w) with no bias', async () => {
    await cpuEngine().init({ device: 'cpu' });
    const lin = await make({ name: 'linear' });
    const f = tf.tensor2d([[1, 2, 3, 4]]);
    const a = lin.forward(f).arraySync()[0]!;
    const b = lin.forward(tf.mul(f, 2) as tf.Tensor2D).arraySync()[0]!;
    expect(a).not.toEqual(b);
    const cos = await make({ name: 'cosine', scale: 10 });
    expect(cos.namedParameters().map(([n]) => n)).toEqual(['head.weight']);
    const W = cos.head.weight.arraySync() as number[][];
    const fv = [1, 2, 3, 4];
    const got = cos.forward(f).arraySync()[0]!;
    W.forEach((w, c) => {
      const dot = w.reduce((s, v, k) => s + v * fv[k]!, 0);
      expect(got[c]).toBeCloseTo((10 * dot) / (Math.hypot(...w) * Math.hypot(...fv)), 5);
    });
  });

  it('needs the feature size and validates options', async () => {
    await expect(registry.create('head', { name: 'linear-norm' }, { seed: 0, registry })).rejects.toThrow(/featureDim/);
    await expect(make({ name: 'linear-norm', num_classes: 1 })).rejects.toThrow(/num_classes/);
  });
});
