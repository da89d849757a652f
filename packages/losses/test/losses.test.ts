import { beforeAll, describe, expect, it } from 'vitest';
import { tf, type BuildContext, type LossInputs, type LossTerm } from '@dfdet/core';
import { alignment, alignmentLoss, ce, crossEntropy, l2Normalize, uniformity, uniformityLoss } from '../src/index.js';
import { engineNames, engines, maxAbsDiff, trainRef } from './fixture.js';
import * as ref from './ref64.js';

const R = trainRef();
const F = R.f64;
const labels = R.inputs.labels;
const { W, b } = R.inputs.head;

const ctx = { seed: 0 } as BuildContext;

/** The loss terms with their default options (which must equal the fixture's recipe). */
function defaultTerms(labelSmoothing = 0): LossTerm[] {
  return [
    ce.create(ce.options.parse({ label_smoothing: labelSmoothing }), ctx) as LossTerm,
    uniformity.create(uniformity.options.parse({}), ctx) as LossTerm,
    alignment.create(alignment.options.parse({}), ctx) as LossTerm,
  ];
}

/** What a trainer with the linear-norm head feeds the loss terms (README (c)). */
function lossInputs(pooled: tf.Tensor2D, Wt: tf.Tensor2D, bt: tf.Tensor1D): LossInputs {
  const normalized = l2Normalize(pooled);
  return { features: pooled, normalized, logits: tf.add(tf.matMul(normalized, Wt, false, true), bt) as tf.Tensor2D, labels: tf.tensor1d(labels, 'int32') };
}

const totalOf = (terms: LossTerm[], inputs: LossInputs) => tf.addN(terms.map((t) => tf.mul(t.compute(inputs), t.weight))) as tf.Scalar;

describe('float64 reference (test helper) reproduces the fixture', () => {
  it('CE, label smoothing, uniformity, alignment, totals, slerp', () => {
    const z = F.features.pooler_output.map(ref.normalize);
    expect(maxAbsDiff(z.flat(), F.features.z.flat())).toBeLessThan(1e-12);
    const lg = ref.logits(z, W, b);
    expect(ref.ce(lg, labels)).toBeCloseTo(F.a_ce.loss, 12);
    expect(ref.ce(lg, labels, 0.1)).toBeCloseTo(F.b_ce_label_smoothing.loss, 12);
    expect(ref.uniformity(z)).toBeCloseTo(F.c_hypersphere.uniformity, 12);
    expect(ref.alignment(z, labels)).toBeCloseTo(F.c_hypersphere.alignment, 12);
    expect(ref.totalFromZ(z, labels, W, b)).toBeCloseTo(F.c_hypersphere.total, 12);
    expect(ref.totalFromZ(z, labels, W, b, 0.1)).toBeCloseTo(F.c_hypersphere.total_with_label_smoothing_value_only, 12);
    for (const [variant, fn] of [['raw', ref.slerpRaw64], ['normalized_official', ref.slerpNormalized64]] as const) {
      const d = F.d_slerp[variant];
      d.pairs.forEach(([i, j], k) => {
        const r = fn(F.features.pooler_output[i]!, F.features.pooler_output[j]!, d.t[k]!);
        expect(maxAbsDiff(r.out, d.augmented[k]!)).toBeLessThan(1e-12);
        expect(r.omega).toBeCloseTo(d.omega[k]!, 12);
      });
    }
  });
});

describe.each(engineNames)('loss terms on %s', (engine) => {
  beforeAll(async () => {
    await engines[engine]().init({ device: 'cpu' });
    expect(tf.getBackend()).toBe(engine);
  });

  it('(a) CE and (b) label-smoothed CE match the fixture', () => {
    tf.tidy(() => {
      const z = tf.tensor2d(F.features.z);
      const y = tf.tensor1d(labels, 'int32');
      const lg = tf.add(tf.matMul(z, tf.tensor2d(W), false, true), tf.tensor1d(b)) as tf.Tensor2D;
      expect(maxAbsDiff(lg.dataSync(), F.a_ce.logits.flat())).toBeLessThan(1e-5);
      expect(Math.abs(crossEntropy(lg, y).dataSync()[0]! - F.a_ce.loss)).toBeLessThan(1e-5);
      expect(Math.abs(crossEntropy(lg, y, 0.1).dataSync()[0]! - F.b_ce_label_smoothing.loss)).toBeLessThan(1e-5);
      // straight from the stored logits too
      const stored = tf.tensor2d(F.a_ce.logits);
      expect(Math.abs(crossEntropy(stored, y).dataSync()[0]! - F.a_ce.loss)).toBeLessThan(1e-5);
      // float labels are accepted
      expect(Math.abs(crossEntropy(stored, tf.tensor1d(labels, 'float32')).dataSync()[0]! - F.a_ce.loss)).toBeLessThan(1e-5);
    });
  });

  it('(c) uniformity, alignment, total and total with label smoothing match the fixture (plugin defaults)', () => {
    tf.tidy(() => {
      const inputs = lossInputs(tf.tensor2d(F.features.pooler_output), tf.tensor2d(W), tf.tensor1d(b));
      expect(maxAbsDiff(inputs.normalized.dataSync(), F.features.z.flat())).toBeLessThan(1e-6);
      const terms = defaultTerms();
      expect(terms.map((t) => [t.name, t.weight])).toEqual([['ce', 1], ['uniformity', 0.1], ['alignment', 0.1]]);
      const [ceV, uV, aV] = terms.map((t) => t.compute(inputs).dataSync()[0]!);
      const c = F.c_hypersphere;
      expect(Math.abs(ceV! - c.ce)).toBeLessThan(1e-5);
      expect(Math.abs(uV! - c.uniformity)).toBeLessThan(1e-5);
      expect(Math.abs(aV! - c.alignment)).toBeLessThan(1e-5);
      expect(Math.abs(totalOf(terms, inputs).dataSync()[0]! - c.total)).toBeLessThan(1e-5);
      expect(Math.abs(totalOf(defaultTerms(0.1), inputs).dataSync()[0]! - c.total_with_label_smoothing_value_only)).toBeLessThan(1e-5);
      // the terms also take the stored f64 z directly
      const z = tf.tensor2d(F.features.z);
      expect(Math.abs(uniformityLoss(z).dataSync()[0]! - c.uniformity)).toBeLessThan(1e-5);
      expect(Math.abs(alignmentLoss(z, inputs.labels).dataSync()[0]! - c.alignment)).toBeLessThan(1e-5);
    });
  });

  it('(c) gradient of the total wrt head W and b matches grad_total', () => {
    tf.tidy(() => {
      const pooled = tf.tensor2d(F.features.pooler_output);
      const terms = defaultTerms();
      const [gW, gb] = tf.grads((Wt: tf.Tensor, bt: tf.Tensor) => totalOf(terms, lossInputs(pooled, Wt as tf.Tensor2D, bt as tf.Tensor1D)))([
        tf.tensor2d(W),
        tf.tensor1d(b),
      ]);
      expect(maxAbsDiff(gW!.dataSync(), (F.c_hypersphere.grad_total['head.W'] as number[][]).flat())).toBeLessThan(1e-5);
      expect(maxAbsDiff(gb!.dataSync(), F.c_hypersphere.grad_total['head.b'] as number[])).toBeLessThan(1e-5);
    });
  });

  it('(c) gradients of the total wrt the features z and pooled match float64 central differences', () => {
    const pooled64 = F.features.pooler_output;
    const z64 = F.features.z;
    const fdPooled = ref.finiteDifference((x) => ref.totalFromPooled(x, labels, W, b), pooled64);
    const fdZ = ref.finiteDifference((x) => ref.totalFromZ(x, labels, W, b), z64);
    tf.tidy(() => {
      const terms = defaultTerms();
      const Wt = tf.tensor2d(W);
      const bt = tf.tensor1d(b);
      const gPooled = tf.grad((p: tf.Tensor) => totalOf(terms, lossInputs(p as tf.Tensor2D, Wt, bt)))(tf.tensor2d(pooled64));
      expect(maxAbsDiff(gPooled.dataSync(), fdPooled.flat())).toBeLessThan(1e-5);
      // z as the free variable (the normalized input of the terms, no renormalization)
      const y = tf.tensor1d(labels, 'int32');
      const gZ = tf.grad((z: tf.Tensor) => {
        const z2 = z as tf.Tensor2D;
        const inputs: LossInputs = { features: z2, normalized: z2, logits: tf.add(tf.matMul(z2, Wt, false, true), bt) as tf.Tensor2D, labels: y };
        return totalOf(terms, inputs);
      })(tf.tensor2d(z64));
      expect(maxAbsDiff(gZ.dataSync(), fdZ.flat())).toBeLessThan(1e-5);
      expect(Math.max(...fdZ.flat().map(Math.abs))).toBeGreaterThan(0.05); // a non-trivial gradient
    });
  });

  it('alignment with α ≠ 2, uniformity with another t: values and gradients match float64', () => {
    const x64 = [
      [0.3, -0.2, 0.9, 0.1],
      [0.25, -0.1, 0.8, 0.3],
      [-0.5, 0.4, 0.2, 0.7],
      [0.6, 0.6, -0.3, 0.2],
      [0.1, -0.7, 0.5, -0.4],
    ].map(ref.normalize);
    const y = [0, 0, 1, 1, 0];
    for (const alpha of [1, 1.5, 3]) {
      const fd = ref.finiteDifference((x) => ref.alignment(x, y, alpha), x64);
      tf.tidy(() => {
        const yt = tf.tensor1d(y, 'int32');
        const x = tf.tensor2d(x64);
        expect(Math.abs(alignmentLoss(x, yt, alpha).dataSync()[0]! - ref.alignment(x64, y, alpha))).toBeLessThan(1e-5);
        const g = tf.grad((v: tf.Tensor) => alignmentLoss(v as tf.Tensor2D, yt, alpha))(x);
        expect(maxAbsDiff(g.dataSync(), fd.flat()), `alpha ${alpha}`).toBeLessThan(1e-4);
      });
    }
    const fdU = ref.finiteDifference((x) => ref.uniformity(x, 3, 1e-6), x64);
    tf.tidy(() => {
      const x = tf.tensor2d(x64);
      expect(Math.abs(uniformityLoss(x, 3).dataSync()[0]! - ref.uniformity(x64, 3))).toBeLessThan(1e-5);
      const g = tf.grad((v: tf.Tensor) => uniformityLoss(v as tf.Tensor2D, 3))(x);
      expect(maxAbsDiff(g.dataSync(), fdU.flat())).toBeLessThan(1e-4);
    });
  });

  it('edge cases: coincident points give finite gradients; no pair → 0; N < 2 → 0; clamp active', () => {
    tf.tidy(() => {
      const same = tf.tensor2d([
        [0.6, 0.8],
        [0.6, 0.8],
        [1, 0],
      ]);
      const y = tf.tensor1d([1, 1, 0], 'int32');
      for (const alpha of [2, 1, 0.5]) {
        const g = tf.grad((v: tf.Tensor) => tf.add(alignmentLoss(v as tf.Tensor2D, y, alpha), uniformityLoss(v as tf.Tensor2D)))(same);
        expect(Array.from(g.dataSync()).every(Number.isFinite), `alpha ${alpha}`).toBe(true);
      }
      // α = 2 at coincident points: exactly the zero gradient of ‖z_i − z_j‖² (alignment only)
      const ga = tf.grad((v: tf.Tensor) => alignmentLoss(v as tf.Tensor2D, y))(same);
      expect(maxAbsDiff(ga.dataSync(), [0, 0, 0, 0, 0, 0])).toBeLessThan(1e-6);
      // labels all distinct → no alignment pair → 0 (and a zero, finite gradient)
      const distinct = tf.tensor1d([0, 1, 2], 'int32');
      expect(alignmentLoss(same, distinct).dataSync()[0]).toBe(0);
      const g0 = tf.grad((v: tf.Tensor) => alignmentLoss(v as tf.Tensor2D, distinct))(same);
      expect(Array.from(g0.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
      // N < 2
      const one = tf.tensor2d([[0.6, 0.8]]);
      expect(uniformityLoss(one).dataSync()[0]).toBe(0);
      expect(alignmentLoss(one, tf.tensor1d([1], 'int32')).dataSync()[0]).toBe(0);
      expect(Array.from(tf.grad((v: tf.Tensor) => uniformityLoss(v as tf.Tensor2D))(one).dataSync())).toEqual([0, 0]);
      // the clamp acts on the mean: far-apart points with a large t → log(clamp_min), zero gradient
      const far = tf.tensor2d([
        [1, 0],
        [-1, 0],
      ]);
      expect(uniformityLoss(far, 100).dataSync()[0]).toBeCloseTo(Math.log(1e-6), 5);
      expect(Array.from(tf.grad((v: tf.Tensor) => uniformityLoss(v as tf.Tensor2D, 100))(far).dataSync())).toEqual([0, 0, 0, 0]);
    });
  });

  it('does not leak tensors (values and gradients, repeated)', () => {
    const pooled = tf.tensor2d(F.features.pooler_output);
    const Wt = tf.tensor2d(W);
    const bt = tf.tensor1d(b);
    const terms = defaultTerms(0.1);
    const step = () =>
      tf.tidy(() => {
        const v = totalOf(terms, lossInputs(pooled, Wt, bt)).dataSync()[0]!;
        tf.grads((p: tf.Tensor, w: tf.Tensor) => totalOf(terms, lossInputs(p as tf.Tensor2D, w as tf.Tensor2D, bt)))([pooled, Wt]);
        return v;
      });
    step();
    const before = tf.memory().numTensors;
    const values = Array.from({ length: 5 }, step);
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(values).size).toBe(1);
    // each compute() also cleans up after itself outside a tidy
    const inputs = lossInputs(pooled, Wt, bt);
    const mid = tf.memory().numTensors;
    for (const t of terms) t.compute(inputs).dispose();
    expect(tf.memory().numTensors).toBe(mid);
    tf.dispose([pooled, Wt, bt, ...Object.values(inputs)]);
  });
});
