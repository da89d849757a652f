import { afterAll, beforeAll, expect, it } from 'vitest';
import { cpuEngine, tf } from '@dfdet/core';
import { FUSED_KERNELS, TORCH_KERNELS, nativeTensorCount, useTorchBackend } from '../src/index.js';
import { DEVICE, describeTorch, relErr, rng } from './helpers.js';

/**
 * Kernel parity: every kernel the torch backend registers runs on random inputs on torch and on
 * tfjs's cpu backend (the reference); outputs must agree within 1e-5 (relative to the output's
 * scale), and so must the gradients of every kernel that has one registered in tfjs, taken for
 * each float input through tf.grads (which also exercises the kernels the gradients use).
 */

type Dtype = 'float32' | 'int32' | 'bool';
interface Spec {
  shape: number[];
  dtype?: Dtype;
  /** value range [lo, hi) (floats), or ints in [lo, hi) */
  lo?: number;
  hi?: number;
  values?: number[];
}
interface Case {
  kernel: string;
  label?: string;
  inputs: Record<string, Spec> | Spec[];
  attrs?: Record<string, unknown>;
  /** skip the gradient check (a kernel whose tfjs gradient needs something else) */
  noGrad?: boolean;
  /** where tfjs's cpu kernel is wrong: the expected first output (numpy's answer) instead */
  expected?: number[];
  /**
   * where tfjs's cpu gradient is wrong, for a linear kernel: check the torch gradient as the
   * adjoint instead, ⟨f(x), w⟩ = ⟨x, ∇⟩
   */
  adjoint?: boolean;
}

const F = (shape: number[], lo = -2, hi = 2): Spec => ({ shape, lo, hi });
const POS = (shape: number[]) => F(shape, 0.2, 3);
const UNIT = (shape: number[]) => F(shape, -0.9, 0.9);
const I = (shape: number[], lo = -5, hi = 6): Spec => ({ shape, dtype: 'int32', lo, hi });
const B = (shape: number[]): Spec => ({ shape, dtype: 'bool' });
const V = (values: number[], shape = [values.length], dtype: Dtype = 'float32'): Spec => ({ shape, dtype, values });

const x34 = { x: F([3, 4]) };
const CASES: Case[] = [
  // unary
  ...['Abs', 'Ceil', 'Cos', 'Erf', 'Exp', 'Expm1', 'Floor', 'Neg', 'Relu', 'Round', 'Sigmoid', 'Sign', 'Sin', 'Square', 'Tanh', 'Atan', 'Asinh', 'Selu', 'Elu', 'Softplus'].map(
    (kernel): Case => ({ kernel, inputs: x34 }),
  ),
  { kernel: 'Cosh', inputs: { x: UNIT([3, 4]) } },
  { kernel: 'Sinh', inputs: { x: UNIT([3, 4]) } },
  { kernel: 'Relu6', inputs: { x: F([3, 4], -3, 9) } },
  ...['Log', 'Log1p', 'Sqrt', 'Rsqrt', 'Reciprocal'].map((kernel): Case => ({ kernel, inputs: { x: POS([3, 4]) } })),
  { kernel: 'Acosh', inputs: { x: F([3, 4], 1.2, 4) } },
  ...['Acos', 'Asin', 'Atanh', 'Tan'].map((kernel): Case => ({ kernel, inputs: { x: UNIT([3, 4]) } })),
  { kernel: 'Abs', label: 'int32', inputs: { x: I([3, 4]) } },
  { kernel: 'Neg', label: 'int32', inputs: { x: I([3, 4]) } },
  { kernel: 'Square', label: 'int32', inputs: { x: I([3, 4]) } },
  { kernel: 'IsNan', inputs: { x: V([1, NaN, Infinity, -Infinity, 0, -2]) } },
  { kernel: 'IsInf', inputs: { x: V([1, NaN, Infinity, -Infinity, 0, -2]) } },
  { kernel: 'IsFinite', inputs: { x: V([1, NaN, Infinity, -Infinity, 0, -2]) } },
  { kernel: 'LogicalNot', inputs: { x: B([3, 4]) } },
  { kernel: 'LeakyRelu', inputs: x34, attrs: { alpha: 0.1 } },
  { kernel: 'Prelu', inputs: { x: F([3, 4]), alpha: F([4], 0, 0.5) } },
  { kernel: 'Step', inputs: { x: V([-1, 0, 2, NaN, -0.5, 3]) }, attrs: { alpha: 0.3 }, noGrad: true },
  { kernel: 'Step', label: 'random', inputs: x34, attrs: { alpha: 0 } },
  { kernel: 'ClipByValue', inputs: x34, attrs: { clipValueMin: -0.5, clipValueMax: 0.7 } },
  { kernel: 'Cast', label: 'float→int32', inputs: { x: F([3, 4], -5, 5) }, attrs: { dtype: 'int32' } },
  { kernel: 'Cast', label: 'int32→float32', inputs: { x: I([3, 4]) }, attrs: { dtype: 'float32' } },
  { kernel: 'Cast', label: 'float→bool', inputs: { x: V([0, 1, -2, 0.5, 0]) }, attrs: { dtype: 'bool' } },
  { kernel: 'Cast', label: 'bool→float32', inputs: { x: B([3, 4]) }, attrs: { dtype: 'float32' } },
  { kernel: 'Cast', label: 'float→float', inputs: x34, attrs: { dtype: 'float32' } },
  { kernel: 'Identity', inputs: x34 },
  { kernel: 'ZerosLike', inputs: x34 },
  { kernel: 'OnesLike', inputs: { x: I([3, 4]) } },
  // binary, with broadcasting
  ...['Add', 'Sub', 'Multiply', 'Maximum', 'Minimum', 'SquaredDifference', 'Atan2'].flatMap((kernel): Case[] => {
    // tfjs's Maximum/Minimum/SquaredDifference gradients do not reduce broadcast dimensions
    const noGrad = ['Maximum', 'Minimum', 'SquaredDifference'].includes(kernel);
    return [
      { kernel, label: 'same shape', inputs: { a: F([3, 4]), b: F([3, 4]) } },
      { kernel, inputs: { a: F([2, 3, 4]), b: F([3, 4]) }, noGrad },
      { kernel, label: 'broadcast both', inputs: { a: F([2, 1, 4]), b: F([3, 1]) }, noGrad },
    ];
  }),
  { kernel: 'RealDiv', inputs: { a: F([2, 3, 4]), b: POS([3, 4]) } },
  { kernel: 'RealDiv', label: 'scalar', inputs: { a: F([2, 3]), b: V([2.5], []) } },
  { kernel: 'FloorDiv', inputs: { a: F([2, 3, 4], -6, 6), b: POS([4]) } },
  { kernel: 'FloorDiv', label: 'int32', inputs: { a: I([2, 3], -9, 9), b: I([3], 1, 4) } },
  { kernel: 'Pow', inputs: { a: POS([2, 3]), b: F([2, 3]) } },
  { kernel: 'Pow', label: 'int32', inputs: { a: I([2, 3], -3, 4), b: I([2, 3], 0, 4) } },
  { kernel: 'Mod', inputs: { a: F([2, 3, 4], -5, 5), b: POS([4]) } },
  { kernel: 'Mod', label: 'int32 signs', inputs: { a: I([2, 3], -9, 9), b: V([3, -4, 5], [3], 'int32') } },
  { kernel: 'Add', label: 'int32', inputs: { a: I([2, 3]), b: I([3]) } },
  { kernel: 'Multiply', label: 'int32', inputs: { a: I([2, 3]), b: I([2, 3]) } },
  ...['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual'].flatMap((kernel): Case[] => [
    { kernel, inputs: { a: I([3, 4], -2, 3), b: I([4], -2, 3) } },
    { kernel, label: 'float32', inputs: { a: F([3, 4]), b: F([3, 1]) } },
  ]),
  ...['LogicalAnd', 'LogicalOr'].map((kernel): Case => ({ kernel, inputs: { a: B([3, 4]), b: B([4]) } })),
  { kernel: 'AddN', inputs: [F([2, 3]), F([2, 3]), F([2, 3])] },
  { kernel: 'Select', inputs: { condition: B([2, 3]), t: F([2, 3]), e: F([2, 3]) } },
  { kernel: 'Select', label: 'int32', inputs: { condition: B([3]), t: I([3]), e: I([3]) } },
  // reductions
  { kernel: 'Sum', inputs: { x: F([3, 4, 5]) }, attrs: { axis: [1], keepDims: false } },
  { kernel: 'Sum', label: 'two axes keepDims', inputs: { x: F([3, 4, 5]) }, attrs: { axis: [0, 2], keepDims: true } },
  { kernel: 'Sum', label: 'int32 all', inputs: { x: I([3, 4]) }, attrs: { axis: [0, 1], keepDims: false } },
  { kernel: 'Sum', label: 'no axes', inputs: { x: F([3, 4]) }, attrs: { axis: [], keepDims: false } },
  { kernel: 'Mean', inputs: { x: F([3, 4, 5]) }, attrs: { axis: [2], keepDims: true } },
  { kernel: 'Mean', label: 'all', inputs: { x: F([3, 4, 5]) }, attrs: { axis: null, keepDims: false } },
  { kernel: 'Max', inputs: { x: F([3, 4, 5]) }, attrs: { reductionIndices: [1], keepDims: false } },
  { kernel: 'Max', label: 'negative axis keepDims', inputs: { x: F([3, 4, 5]) }, attrs: { reductionIndices: -1, keepDims: true } },
  { kernel: 'Min', inputs: { x: F([3, 4, 5]) }, attrs: { axis: [0, 2], keepDims: false } },
  { kernel: 'Prod', inputs: { x: F([3, 4, 2], 0.5, 1.5) }, attrs: { axis: [1], keepDims: false } },
  { kernel: 'All', inputs: { x: B([3, 4]) }, attrs: { axis: [1], keepDims: false } },
  { kernel: 'Any', inputs: { x: B([3, 4]) }, attrs: { axis: [0, 1], keepDims: true } },
  { kernel: 'ArgMax', inputs: { x: F([3, 4, 5]) }, attrs: { axis: 1 } },
  { kernel: 'ArgMin', inputs: { x: F([3, 4, 5]) }, attrs: { axis: [2] } },
  { kernel: 'Cumsum', inputs: { x: F([3, 4]) }, attrs: { axis: 1, exclusive: false, reverse: false } },
  { kernel: 'Cumsum', label: 'exclusive reverse', inputs: { x: F([3, 4]) }, attrs: { axis: 1, exclusive: true, reverse: true } },
  // (tfjs's Cumsum gradient transposes wrongly for axis 0)
  { kernel: 'Cumsum', label: 'exclusive axis 0', inputs: { x: F([3, 4]) }, attrs: { axis: 0, exclusive: true, reverse: false }, noGrad: true },
  { kernel: 'Cumprod', inputs: { x: F([3, 4], 0.5, 1.5) }, attrs: { axis: 0, exclusive: false, reverse: false } },
  { kernel: 'Softmax', inputs: { logits: F([3, 5], -4, 4) }, attrs: { dim: -1 } },
  // shapes
  { kernel: 'Reshape', inputs: { x: F([2, 3, 4]) }, attrs: { shape: [4, -1] } },
  { kernel: 'Transpose', inputs: { x: F([2, 3, 4]) }, attrs: { perm: [2, 0, 1] } },
  { kernel: 'ExpandDims', inputs: { input: F([2, 3]) }, attrs: { dim: 1 } },
  { kernel: 'ExpandDims', label: 'negative', inputs: { input: F([2, 3]) }, attrs: { dim: -1 } },
  { kernel: 'Slice', inputs: { x: F([3, 4, 5]) }, attrs: { begin: [1, 0, 1], size: [2, -1, 3] } },
  { kernel: 'StridedSlice', inputs: { x: F([5, 6]) }, attrs: { begin: [0, 1], end: [5, 6], strides: [2, 2], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 } },
  // (tfjs's cpu kernel is wrong for a negative stride combined with shrinkAxisMask; torch gives numpy's answer)
  { kernel: 'StridedSlice', label: 'negative stride', inputs: { x: F([5, 6]) }, attrs: { begin: [4, 0], end: [0, 6], strides: [-1, 2], beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 } },
  // (and for a stride > 1 with shrinkAxisMask: expected is numpy's x[1:, 0:4:2, 2])
  {
    kernel: 'StridedSlice',
    label: 'masks, shrink',
    inputs: { x: V(Array.from({ length: 60 }, (_, i) => i), [4, 5, 3]) },
    attrs: { begin: [1, 0, 2], end: [3, 4, 3], strides: [1, 2, 1], beginMask: 2, endMask: 1, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 4 },
    expected: [17, 23, 32, 38, 47, 53],
  },
  { kernel: 'Concat', inputs: [F([2, 3]), F([2, 5]), F([2, 0])], attrs: { axis: 1 } },
  { kernel: 'Concat', label: 'axis 0 int32', inputs: [I([1, 3]), I([2, 3])], attrs: { axis: 0 } },
  { kernel: 'Pack', inputs: [F([2, 3]), F([2, 3])], attrs: { axis: 1 } },
  { kernel: 'Unpack', inputs: { value: F([2, 3, 4]) }, attrs: { axis: 1 } },
  { kernel: 'SplitV', inputs: { x: F([2, 4]) }, attrs: { numOrSizeSplits: [1, 3], axis: 1 } },
  { kernel: 'SplitV', label: 'even', inputs: { x: F([4, 2]) }, attrs: { numOrSizeSplits: 2, axis: 0 } },
  { kernel: 'Tile', inputs: { x: F([2, 1, 3]) }, attrs: { reps: [2, 3, 1] } },
  { kernel: 'PadV2', inputs: { x: F([2, 3]) }, attrs: { paddings: [[1, 2], [0, 1]], constantValue: 0.5 } },
  { kernel: 'MirrorPad', inputs: { x: F([3, 4]) }, attrs: { paddings: [[1, 2], [2, 1]], mode: 'reflect' } },
  { kernel: 'MirrorPad', label: 'symmetric', inputs: { x: F([3, 4]) }, attrs: { paddings: [[2, 1], [0, 3]], mode: 'symmetric' } },
  { kernel: 'Reverse', inputs: { x: F([2, 3, 4]) }, attrs: { dims: [1, 2] } },
  { kernel: 'Fill', inputs: {}, attrs: { shape: [2, 3], value: 1.5, dtype: 'float32' } },
  { kernel: 'Fill', label: 'int32', inputs: {}, attrs: { shape: [4], value: 7, dtype: 'int32' } },
  { kernel: 'Range', inputs: {}, attrs: { start: 0.5, stop: 3.3, step: 0.4, dtype: 'float32' } },
  { kernel: 'Range', label: 'int32', inputs: {}, attrs: { start: 5, stop: -3, step: -2, dtype: 'int32' } },
  { kernel: 'LinSpace', inputs: {}, attrs: { start: -1, stop: 2, num: 7 } },
  { kernel: 'OneHot', inputs: { indices: V([0, 2, -1, 5, 1], [5], 'int32') }, attrs: { depth: 4, onValue: 1, offValue: 0, dtype: 'int32' } },
  { kernel: 'OneHot', label: 'float on/off', inputs: { indices: V([1, 0, 3, 2, 1, 0], [2, 3], 'int32') }, attrs: { depth: 4, onValue: 0.9, offValue: 0.025, dtype: 'float32' } },
  // gathers and scatters
  { kernel: 'GatherV2', inputs: { x: F([3, 5, 2]), indices: I([2, 2], 0, 5) }, attrs: { axis: 1, batchDims: 0 } },
  { kernel: 'GatherV2', label: 'batchDims 1', inputs: { x: F([3, 5, 2]), indices: I([3, 4], 0, 5) }, attrs: { axis: 1, batchDims: 1 } },
  { kernel: 'GatherNd', inputs: { params: F([4, 3, 2]), indices: V([0, 1, 3, 2, 1, 0], [3, 2], 'int32') } },
  { kernel: 'ScatterNd', inputs: { indices: V([0, 2, 0], [3, 1], 'int32'), updates: F([3, 4]) }, attrs: { shape: [4, 4] } },
  { kernel: 'UnsortedSegmentSum', inputs: { x: F([5, 3]), segmentIds: V([0, 2, 0, 1, 2], [5], 'int32') }, attrs: { numSegments: 4 } },
  { kernel: 'TopK', inputs: { x: F([3, 6]) }, attrs: { k: 3, sorted: true } },
  // matrix products
  { kernel: 'BatchMatMul', inputs: { a: F([1, 5, 3]), b: F([1, 3, 4]) }, attrs: { transposeA: false, transposeB: false } },
  { kernel: 'BatchMatMul', label: 'linear (transposeB)', inputs: { a: F([6, 3]), b: F([4, 3]) }, attrs: { transposeA: false, transposeB: true } },
  { kernel: 'BatchMatMul', label: 'batched', inputs: { a: F([2, 5, 3]), b: F([2, 3, 4]) }, attrs: { transposeA: false, transposeB: false } },
  { kernel: 'BatchMatMul', label: 'batched, both transposed', inputs: { a: F([2, 2, 3, 5]), b: F([2, 2, 4, 3]) }, attrs: { transposeA: true, transposeB: true } },
  { kernel: 'BatchMatMul', label: 'transposeA, shared b', inputs: { a: F([2, 3, 5]), b: F([1, 3, 4]) }, attrs: { transposeA: true, transposeB: false }, noGrad: true },
  // (tfjs's BatchMatMul gradient does not reduce a broadcast batch: no gradient check)
  { kernel: 'BatchMatMul', label: 'shared b, batched a', inputs: { a: F([2, 5, 3]), b: F([1, 3, 4]) }, attrs: { transposeA: false, transposeB: false }, noGrad: true },
  { kernel: '_FusedMatMul', inputs: { a: F([1, 5, 3]), b: F([1, 4, 3]), bias: F([4]) }, attrs: { transposeA: false, transposeB: true, activation: 'relu' }, noGrad: true },
  { kernel: 'Einsum', inputs: [F([3, 4]), F([4, 2])], attrs: { equation: 'ij,jk->ik' }, noGrad: true },
  // images
  // (tfjs's cpu ResizeBilinearGrad ignores halfPixelCenters and breaks on non-square images:
  // the torch gradient is checked as the adjoint of the forward)
  { kernel: 'ResizeBilinear', inputs: { images: F([1, 4, 5, 2]) }, attrs: { size: [6, 3], alignCorners: false, halfPixelCenters: true }, adjoint: true },
  { kernel: 'ResizeBilinear', label: 'alignCorners', inputs: { images: F([2, 3, 3, 1]) }, attrs: { size: [5, 7], alignCorners: true, halfPixelCenters: false } },
];

/** Kernels only reached through another kernel's gradient; checked there. */
const VIA_GRADIENT = new Set(['ResizeBilinearGrad', 'EluGrad']);

function makeValues(spec: Spec, next: () => number): Float32Array | Int32Array | Uint8Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const dtype = spec.dtype ?? 'float32';
  if (spec.values) return dtype === 'float32' ? Float32Array.from(spec.values) : dtype === 'int32' ? Int32Array.from(spec.values) : Uint8Array.from(spec.values);
  if (dtype === 'bool') return Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
  const lo = spec.lo ?? -2;
  const hi = spec.hi ?? 2;
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => Math.floor(lo + next() * (hi - lo)));
  return Float32Array.from({ length: n }, () => lo + next() * (hi - lo));
}

interface Result {
  outputs: { dtype: string; shape: number[]; values: number[] }[];
  grads?: number[][];
  /** ⟨f(x), w⟩ and ⟨x, ∇⟩ */
  adjoint?: [number, number];
}

function runCase(c: Case, seed: number, withGrad: boolean): Result {
  const next = rng(seed);
  const specs = Array.isArray(c.inputs) ? c.inputs : Object.values(c.inputs);
  const names = Array.isArray(c.inputs) ? specs.map((_, i) => String(i)) : Object.keys(c.inputs);
  const tensors = specs.map((s) => tf.tensor(makeValues(s, next), s.shape, s.dtype ?? 'float32'));
  const pack = (ts: tf.Tensor[]) => (Array.isArray(c.inputs) ? ts : Object.fromEntries(names.map((n, i) => [n, ts[i]!])));
  const run = (ts: tf.Tensor[]) => {
    const out = tf.engine().runKernel(c.kernel, pack(ts) as never, (c.attrs ?? {}) as never) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
  const outs = run(tensors);
  const result: Result = {
    outputs: outs.map((o) => ({ dtype: o.dtype, shape: o.shape, values: Array.from(o.dataSync() as ArrayLike<number>) })),
  };
  const floatIdx = tensors.map((t, i) => (t.dtype === 'float32' ? i : -1)).filter((i) => i >= 0);
  if (withGrad && floatIdx.length > 0 && outs.some((o) => o.dtype === 'float32')) {
    // d/dx Σ w·out over the float outputs, with fixed random weights w
    const weights = outs.map((o) => tf.tensor(Float32Array.from({ length: o.size }, () => next() * 2 - 1), o.shape));
    const f = (...xs: tf.Tensor[]) => {
      const all = tensors.map((t, i) => (floatIdx.includes(i) ? xs[floatIdx.indexOf(i)]! : t));
      const ys = run(all);
      return tf.addN(ys.map((y, i) => (y.dtype === 'float32' ? tf.sum(tf.mul(y, weights[i]!)) : tf.scalar(0)))) as tf.Scalar;
    };
    const xs = floatIdx.map((i) => tensors[i]!);
    const grads = tf.grads(f)(xs);
    result.grads = grads.map((g) => Array.from(g.dataSync()));
    if (c.adjoint) {
      result.adjoint = tf.tidy(() => [f(...xs).dataSync()[0]!, tf.addN(xs.map((x, k) => tf.sum(tf.mul(x, grads[k]!)))).dataSync()[0]!]);
    }
    tf.dispose([...grads, ...weights]);
  }
  tf.dispose([...tensors, ...outs]);
  return result;
}

const label = (c: Case) => `${c.kernel}${c.label ? ` (${c.label})` : ''}`;

describeTorch('torch kernels vs the cpu backend', () => {
  beforeAll(async () => {
    await useTorchBackend({ device: DEVICE, threads: 2 });
  });
  afterAll(async () => {
    await useTorchBackend({ device: DEVICE });
  });

  it('has a parity case for every registered kernel', () => {
    const covered = new Set(CASES.map((c) => c.kernel));
    const fused = new Set<string>(Object.values(FUSED_KERNELS));
    const missing = [...TORCH_KERNELS.keys()].filter((k) => !covered.has(k) && !fused.has(k) && !VIA_GRADIENT.has(k));
    expect(missing).toEqual([]);
  });

  it.each(CASES.map((c, i) => [label(c), c, i] as const))('%s', async (_name, c, i) => {
    const withGrad = !c.noGrad && tf.getGradient(c.kernel) != null;
    await cpuEngine().init({ device: 'cpu' });
    const ref = runCase(c, 1000 + i, withGrad && !c.adjoint);
    if (c.expected) ref.outputs[0]!.values = c.expected;
    await useTorchBackend({ device: DEVICE });
    const before = tf.memory().numTensors;
    const nativeBefore = nativeTensorCount();
    const got = runCase(c, 1000 + i, withGrad);
    expect(tf.memory().numTensors).toBe(before);
    expect(nativeTensorCount()).toBe(nativeBefore);
    expect(got.outputs.length).toBe(ref.outputs.length);
    got.outputs.forEach((o, k) => {
      const r = ref.outputs[k]!;
      expect(o.shape, `output ${k} shape`).toEqual(r.shape);
      expect(o.dtype, `output ${k} dtype`).toBe(r.dtype);
      if (r.dtype === 'float32') expect(relErr(o.values, r.values), `output ${k}`).toBeLessThanOrEqual(1e-5);
      else expect(o.values, `output ${k}`).toEqual(r.values);
    });
    if (c.adjoint) {
      const [lhs, rhs] = got.adjoint!;
      expect(Math.abs(lhs - rhs) / Math.max(1, Math.abs(lhs)), '⟨f(x), w⟩ vs ⟨x, ∇⟩').toBeLessThanOrEqual(1e-5);
    }
    if (ref.grads) {
      expect(got.grads?.length).toBe(ref.grads?.length);
      got.grads!.forEach((g, k) => expect(relErr(g, ref.grads![k]!), `gradient ${k}`).toBeLessThanOrEqual(1e-5));
    }
  });
});
