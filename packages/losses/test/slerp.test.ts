import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, SeededRng, tf, type FeatureAugmentation, type LossTerm } from '@dfdet/core';
import {
  applySlerpPlan,
  l2Normalize,
  planSlerp,
  plugins,
  slerp,
  SlerpAugmentation,
  slerpNormalized,
  slerpNormalizedParts,
  slerpRaw,
  slerpRawParts,
} from '../src/index.js';
import { engineNames, engines, maxAbsDiff, trainRef } from './fixture.js';
import * as ref from './ref64.js';

const R = trainRef();
const pooled64 = R.f64.features.pooler_output;

/** A batch with two classes and a singleton third class (left untouched by slerp). */
function batch(n = 12, d = 6, seed = 3) {
  const rng = new SeededRng(seed);
  const x = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.next() * 2 - 1));
  const labels = Int32Array.from({ length: n }, (_, i) => (i === n - 1 ? 2 : i % 3 === 0 ? 0 : 1));
  return { x, labels };
}

describe.each(engineNames)('slerp on %s', (engine) => {
  beforeAll(async () => {
    await engines[engine]().init({ device: 'cpu' });
    expect(tf.getBackend()).toBe(engine);
  });

  it('(d) both variants match the fixture, incl. the official self-pair at t = 0.5', () => {
    for (const variant of ['raw', 'normalized_official'] as const) {
      const d = R.f64.d_slerp[variant];
      const f32 = R.f32.d_slerp[variant];
      tf.tidy(() => {
        const a = tf.tensor2d(d.pairs.map(([i]) => pooled64[i]!));
        const bb = tf.tensor2d(d.pairs.map(([, j]) => pooled64[j]!));
        const t = tf.tensor1d(d.t);
        const parts = variant === 'raw' ? slerpRawParts(a, bb, t) : slerpNormalizedParts(a, bb, t);
        const out = variant === 'raw' ? slerpRaw(a, bb, t) : slerpNormalized(a, bb, t);
        expect(maxAbsDiff(out.dataSync(), parts.output.dataSync())).toBe(0);
        expect(maxAbsDiff(parts.output.dataSync(), d.augmented.flat()), variant).toBeLessThan(1e-5);
        expect(maxAbsDiff(parts.coeffA.dataSync(), d.coeff_a)).toBeLessThan(1e-5);
        expect(maxAbsDiff(parts.coeffB.dataSync(), d.coeff_b)).toBeLessThan(1e-5);
        expect(maxAbsDiff(tf.norm(parts.output, 2, 1).dataSync(), d.augmented_l2norm)).toBeLessThan(1e-5 * Math.max(...d.augmented_l2norm));
        const omega = parts.omega.dataSync();
        d.pairs.forEach(([i, j], k) => {
          if (i !== j) {
            expect(Math.abs(omega[k]! - d.omega[k]!)).toBeLessThan(1e-5);
          } else {
            // README: in float32 the clamp bound 1 − 1e-7 rounds to 1 − 2⁻²³, so the self-pair's omega
            // is acos(1 − 2⁻²³) ≈ 4.88e-4, not the float64 4.47e-4 (by design); it matches torch f32.
            expect(Math.abs(omega[k]! - Math.acos(Math.fround(1 - 1e-7)))).toBeLessThan(2e-6);
            expect(Math.abs(omega[k]! - f32.omega[k]!)).toBeLessThan(2e-6);
          }
        });
        // informative: the head on the re-normalized augmented features
        const { W, b } = R.inputs.head;
        const lg = tf.add(tf.matMul(l2Normalize(parts.output), tf.tensor2d(W), false, true), tf.tensor1d(b));
        expect(maxAbsDiff(lg.dataSync(), d.head_logits_of_augmented.flat())).toBeLessThan(1e-5);
      });
    }
  });

  it('scalar t and [N, 1] t give the same result as [N] t', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([pooled64[1]!, pooled64[2]!]);
      const bb = tf.tensor2d([pooled64[2]!, pooled64[1]!]);
      const v1 = slerpNormalized(a, bb, 0.3).dataSync();
      const v2 = slerpNormalized(a, bb, tf.tensor2d([[0.3], [0.3]])).dataSync();
      const v3 = slerpNormalized(a, bb, tf.tensor1d([0.3, 0.3])).dataSync();
      expect(maxAbsDiff(v1, v2)).toBe(0);
      expect(maxAbsDiff(v1, v3)).toBe(0);
      expect(() => slerpNormalized(a, bb, tf.zeros([2, 2]))).toThrow(/t must be/);
      // endpoints: t = 0 → A, t = 1 → B (normalized)
      expect(maxAbsDiff(slerpNormalized(a, bb, 0).dataSync(), l2Normalize(a).dataSync())).toBeLessThan(1e-6);
      expect(maxAbsDiff(slerpNormalized(a, bb, 1).dataSync(), l2Normalize(bb).dataSync())).toBeLessThan(1e-6);
    });
  });

  it('augmentation is deterministic per seed, pairs within a class, is unit-norm, leaves singleton classes raw', () => {
    const { x, labels } = batch();
    const aug = new SlerpAugmentation();
    const run = (seed: number) => tf.tidy(() => Array.from(aug.apply(tf.tensor2d(x), labels, new SeededRng(seed)).dataSync()));
    const r1 = run(7);
    expect(run(7)).toEqual(r1);
    expect(maxAbsDiff(run(8), r1)).toBeGreaterThan(1e-3);
    const d = x[0]!.length;
    for (let i = 0; i < x.length; i++) {
      const row = r1.slice(i * d, (i + 1) * d);
      if (labels[i] === 2) expect(maxAbsDiff(row, x[i]!.map(Math.fround))).toBe(0); // singleton: untouched, raw
      else expect(Math.abs(ref.norm(row) - 1)).toBeLessThan(1e-5);
    }
    for (let seed = 0; seed < 50; seed++) {
      const plan = planSlerp(labels, new SeededRng(seed));
      plan.partners.forEach((p, i) => expect(labels[p]).toBe(labels[i]));
      labels.forEach((c, i) => expect(plan.augmented[i]).toBe(c === 2 ? 0 : 1));
      // partners form a permutation within each class
      for (const c of [0, 1]) {
        const rows = [...labels.keys()].filter((i) => labels[i] === c);
        expect(rows.map((i) => plan.partners[i]).sort((p, q) => p! - q!)).toEqual(rows);
      }
    }
  });

  it('draws exactly like the official code: per class (ascending), a permutation, then t per row', () => {
    const { x, labels } = batch();
    const plan = planSlerp(labels, new SeededRng(11), 0.25, 0.75);
    const rng = new SeededRng(11);
    for (const c of [0, 1]) {
      const rows = [...labels.keys()].filter((i) => labels[i] === c);
      const perm = rng.permutation(rows.length);
      const ts = rows.map(() => rng.next() * 0.5 + 0.25);
      rows.forEach((row, k) => {
        expect(plan.partners[row]).toBe(rows[perm[k]!]);
        expect(plan.t[row]).toBe(ts[k]);
      });
    }
    expect(Array.from(plan.t).every((t, i) => (labels[i] === 2 ? t === 0 : t >= 0.25 && t < 0.75))).toBe(true);
    // the tensor path equals the float64 formula row by row
    const got = tf.tidy(() => applySlerpPlan(tf.tensor2d(x), plan).arraySync());
    x.forEach((row, i) => {
      const want = plan.augmented[i] ? ref.slerpNormalized64(row, x[plan.partners[i]!]!, plan.t[i]!).out : row;
      expect(maxAbsDiff(got[i]!, want)).toBeLessThan(1e-5);
    });
  });

  it('gradient flows through both ends (partners are not detached, as in the official code) and matches float64', () => {
    const { x, labels } = batch(8, 5, 5);
    const plan = planSlerp(labels, new SeededRng(2));
    const w = x.map((row, i) => row.map((_, j) => Math.sin(1 + i * 7 + j)));
    // float64 objective; `detach` keeps the partners at their original values (what a detached
    // partner would give), to show the tensor path is NOT that
    const f64 = (m: number[][], detach = false) =>
      m.reduce((s, row, i) => {
        const partner = (detach ? x : m)[plan.partners[i]!]!;
        const out = plan.augmented[i] ? ref.slerpNormalized64(row, partner, Math.fround(plan.t[i]!)).out : row;
        return s + ref.dot(out, w[i]!);
      }, 0);
    const fd = ref.finiteDifference((m) => f64(m), x);
    const fdDetached = ref.finiteDifference((m) => f64(m, true), x);
    expect(plan.partners.some((p, i) => p !== i)).toBe(true);
    tf.tidy(() => {
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(applySlerpPlan(v as tf.Tensor2D, plan), tf.tensor2d(w))))(tf.tensor2d(x));
      expect(maxAbsDiff(g.dataSync(), fd.flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(g.dataSync(), fdDetached.flat())).toBeGreaterThan(0.1);
    });
  });

  it('p = 0 passes through (a copy); p draws one number only when p < 1', () => {
    const { x, labels } = batch();
    tf.tidy(() => {
      const input = tf.tensor2d(x);
      const out = new SlerpAugmentation(0, 1, 0).apply(input, labels, new SeededRng(1));
      expect(out).not.toBe(input);
      expect(maxAbsDiff(out.dataSync(), input.dataSync())).toBe(0);
    });
    const a = new SeededRng(4);
    const b = new SeededRng(4);
    new SlerpAugmentation().plan(labels, a);
    planSlerp(labels, b);
    expect(a.state()).toEqual(b.state());
    expect(() => new SlerpAugmentation().apply(tf.zeros([3, 2]) as tf.Tensor2D, new Int32Array(2), new SeededRng(0))).toThrow(/labels/);
  });

  it('does not leak tensors (apply and its gradient, repeated inside tf.tidy)', () => {
    const { x, labels } = batch();
    const input = tf.tensor2d(x);
    const aug = new SlerpAugmentation();
    const rng = new SeededRng(9);
    const step = () =>
      tf.tidy(() => {
        aug.apply(input, labels, rng);
        tf.grad((v: tf.Tensor) => tf.sum(aug.apply(v as tf.Tensor2D, labels, rng)))(input);
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    // outside a tidy, apply leaves exactly its output
    const out = aug.apply(input, labels, rng);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([out, input]);
  });
});

describe('plugins', () => {
  it('registers ce, uniformity, alignment (loss) and slerp (augmentation) with their defaults', async () => {
    const registry = new PluginRegistry([plugins]);
    expect(registry.names('loss')).toEqual(['alignment', 'ce', 'uniformity']);
    expect(registry.names('augmentation')).toEqual(['slerp']);
    const ctx = { seed: 0, registry };
    const terms = await Promise.all(['ce', 'uniformity', 'alignment'].map((n) => registry.create<LossTerm>('loss', n, ctx)));
    expect(terms.map((t) => [t.name, t.weight])).toEqual([['ce', 1], ['uniformity', 0.1], ['alignment', 0.1]]);
    expect(terms.every((t) => typeof t.compute === 'function')).toBe(true);
    const ls = await registry.create<LossTerm & { labelSmoothing: number }>('loss', { name: 'ce', label_smoothing: 0.1, weight: 2 }, ctx);
    expect([ls.weight, ls.labelSmoothing]).toEqual([2, 0.1]);
    await expect(registry.create('loss', { name: 'ce', label_smoothing: 1 }, ctx)).rejects.toThrow(/label_smoothing/);
    await expect(registry.create('loss', { name: 'uniformity', tt: 2 }, ctx)).rejects.toThrow();
    const aug = await registry.create<FeatureAugmentation & SlerpAugmentation>('augmentation', 'slerp', ctx);
    expect([aug.name, aug.tMin, aug.tMax, aug.p]).toEqual(['slerp', 0, 1, 1]);
    await expect(registry.create('augmentation', { name: 'slerp', t_min: 0.8, t_max: 0.2 }, ctx)).rejects.toThrow(/t_min/);
    expect(slerp.kind).toBe('augmentation');
  });
});
