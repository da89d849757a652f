import { tf } from '@dfdet/core';
import { Ctx, type Native, type TorchBackend } from './backend.js';

type TensorInfo = tf.TensorInfo;
type DataType = tf.DataType;
type Attrs = Record<string, any>;
type Inputs = Record<string, TensorInfo | TensorInfo[]>;
type KernelImpl = (c: Ctx, inputs: any, attrs: Attrs) => TensorInfo | TensorInfo[];

export const BACKEND_NAME = 'torch';

/** Every kernel this package implements, by tfjs kernel name. */
export const TORCH_KERNELS = new Map<string, KernelImpl>();

function def(name: string, impl: KernelImpl): void {
  TORCH_KERNELS.set(name, impl);
}

/** Registers every kernel for the `torch` backend (idempotent). */
export function registerTorchKernels(): void {
  for (const [kernelName, impl] of TORCH_KERNELS) {
    if (tf.getKernel(kernelName, BACKEND_NAME)) continue;
    tf.registerKernel({
      kernelName,
      backendName: BACKEND_NAME,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const c = new Ctx(backend as TorchBackend);
        try {
          return impl(c, inputs as Inputs, (attrs ?? {}) as Attrs);
        } finally {
          c.dispose();
        }
      },
    });
  }
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

// ---- elementwise -------------------------------------------------------------------------------

/** Unary ops whose output keeps the input dtype (as tfjs's cpu backend). */
const UNARY: Record<string, string> = {
  Abs: 'aten::abs',
  Acos: 'aten::acos',
  Acosh: 'aten::acosh',
  Asin: 'aten::asin',
  Asinh: 'aten::asinh',
  Atan: 'aten::atan',
  Atanh: 'aten::atanh',
  Ceil: 'aten::ceil',
  Cos: 'aten::cos',
  Cosh: 'aten::cosh',
  Erf: 'aten::erf',
  Exp: 'aten::exp',
  Expm1: 'aten::expm1',
  Floor: 'aten::floor',
  Log: 'aten::log',
  Log1p: 'aten::log1p',
  Neg: 'aten::neg',
  Reciprocal: 'aten::reciprocal',
  Relu: 'aten::relu',
  Round: 'aten::round',
  Rsqrt: 'aten::rsqrt',
  Sigmoid: 'aten::sigmoid',
  Sign: 'aten::sign',
  Sin: 'aten::sin',
  Sinh: 'aten::sinh',
  Sqrt: 'aten::sqrt',
  Square: 'aten::square',
  Tan: 'aten::tan',
  Tanh: 'aten::tanh',
  Selu: 'aten::selu',
};
for (const [name, op] of Object.entries(UNARY)) {
  def(name, (c, { x }) => {
    if (x.dtype === 'bool' && (name === 'Abs' || name === 'Neg' || name === 'Square' || name === 'Sign')) {
      return c.out(c.op(op, c.op('aten::to.dtype', x, 'int32')), x.dtype);
    }
    return c.out(c.op(op, x), x.dtype);
  });
}
def('Elu', (c, { x }) => c.out(c.op('aten::elu', x, 1, 1, 1), x.dtype));
def('EluGrad', (c, { dy, y }) => c.out(c.op('aten::elu_backward', dy, 1, 1, 1, true, y), 'float32'));
def('Relu6', (c, { x }) => c.out(c.op('aten::hardtanh', x, 0, 6), x.dtype));
def('Softplus', (c, { x }) => c.out(c.op('aten::softplus', x, 1, 20), x.dtype));
def('LeakyRelu', (c, { x }, { alpha }) => c.out(c.op('aten::leaky_relu', x, alpha), x.dtype));
def('Prelu', (c, { x, alpha }) => {
  const pos = c.op('aten::gt.Scalar', x, 0);
  return c.out(c.op('aten::where.self', pos, x, c.op('aten::mul.Tensor', x, alpha)), x.dtype);
});
def('Step', (c, { x }, { alpha }) => {
  const pos = c.op('aten::gt.Scalar', x, 0);
  const one = c.op('aten::ones_like', x);
  const a = c.op('aten::full_like', x, alpha ?? 0);
  const stepped = c.op('aten::where.self', pos, one, a);
  // NaN stays NaN, as tfjs
  return c.out(x.dtype === 'float32' ? c.op('aten::where.self', c.op('aten::isnan', x), x, stepped) : stepped, x.dtype);
});
def('IsNan', (c, { x }) => c.out(c.op('aten::isnan', x), 'bool'));
def('IsInf', (c, { x }) => c.out(c.op('aten::isinf', x), 'bool'));
def('IsFinite', (c, { x }) => c.out(c.op('aten::isfinite', x), 'bool'));
def('LogicalNot', (c, { x }) => c.out(c.op('aten::logical_not', x), 'bool'));
def('ClipByValue', (c, { x }, { clipValueMin, clipValueMax }) => c.out(c.op('aten::clamp', x, clipValueMin, clipValueMax), x.dtype));
def('Cast', (c, { x }, { dtype }) => {
  if (dtype === 'complex64' || dtype === 'string') throw new Error(`torch backend: Cast to ${dtype} is not supported`);
  if (dtype === x.dtype) return c.out(x);
  return c.out(c.op('aten::to.dtype', x, dtype), dtype);
});
def('Identity', (c, { x }) => c.out(x));
def('ZerosLike', (c, { x }) => c.out(c.op('aten::zeros_like', x), x.dtype));
def('OnesLike', (c, { x }) => c.out(c.op('aten::ones_like', x), x.dtype));

type Operand = TensorInfo | Native;
const ARITH: Record<string, (c: Ctx, a: Operand, b: Operand) => Native> = {
  Add: (c, a, b) => c.op('aten::add.Tensor', a, b, 1),
  Sub: (c, a, b) => c.op('aten::sub.Tensor', a, b, 1),
  Multiply: (c, a, b) => c.op('aten::mul.Tensor', a, b),
  RealDiv: (c, a, b) => c.op('aten::div.Tensor', a, b),
  Maximum: (c, a, b) => c.op('aten::maximum', a, b),
  Minimum: (c, a, b) => c.op('aten::minimum', a, b),
  Pow: (c, a, b) => c.op('aten::pow.Tensor_Tensor', a, b),
  SquaredDifference: (c, a, b) => c.op('aten::square', c.op('aten::sub.Tensor', a, b, 1)),
  Atan2: (c, a, b) => c.op('aten::atan2', a, b),
  Mod: (c, a, b) => c.op('aten::remainder.Tensor', a, b),
};
for (const [name, f] of Object.entries(ARITH)) {
  def(name, (c, { a, b }) => {
    const dtype = tf.upcastType(a.dtype, b.dtype);
    if (dtype === 'bool' && name !== 'Maximum' && name !== 'Minimum') {
      // arithmetic on bools (tfjs treats them as 0/1)
      return c.out(f(c, c.op('aten::to.dtype', a, 'int32'), c.op('aten::to.dtype', b, 'int32')), 'bool');
    }
    return c.out(f(c, a, b), dtype);
  });
}

// tfjs: FloorDiv's output is int32 whatever the inputs
def('FloorDiv', (c, { a, b }) => c.out(c.op('aten::div.Tensor_mode', a, b, 'floor'), 'int32'));

const COMPARE: Record<string, string> = {
  Equal: 'aten::eq.Tensor',
  NotEqual: 'aten::ne.Tensor',
  Less: 'aten::lt.Tensor',
  LessEqual: 'aten::le.Tensor',
  Greater: 'aten::gt.Tensor',
  GreaterEqual: 'aten::ge.Tensor',
  LogicalAnd: 'aten::logical_and',
  LogicalOr: 'aten::logical_or',
};
for (const [name, op] of Object.entries(COMPARE)) def(name, (c, { a, b }) => c.out(c.op(op, a, b), 'bool'));

def('AddN', (c, inputs) => {
  const xs = inputs as unknown as TensorInfo[];
  if (xs.length === 1) return c.out(xs[0]!);
  let acc = c.op('aten::add.Tensor', xs[0]!, xs[1]!, 1);
  for (let i = 2; i < xs.length; i++) acc = c.op('aten::add.Tensor', acc, xs[i]!, 1);
  return c.out(acc, xs[0]!.dtype);
});

def('Select', (c, { condition, t, e }) => {
  // (the tfjs where op broadcasts condition, t and e to one shape before this kernel)
  const cond = condition.dtype === 'bool' ? condition : c.op('aten::to.dtype', condition, 'bool');
  return c.out(c.op('aten::where.self', cond, t, e), tf.upcastType(t.dtype, e.dtype));
});

// ---- reductions -------------------------------------------------------------------------------

function axesOf(x: TensorInfo, axis: number | number[] | null | undefined): number[] {
  // (null means every axis; parseAxisParam handles it though its type says otherwise)
  return tf.util.parseAxisParam((axis ?? null) as number[], x.shape);
}

/** Reduces over each axis in turn (for ATen ops that take one dim). */
function reduceEach(c: Ctx, x: TensorInfo, axes: number[], keepDims: boolean, op: string): Native | TensorInfo {
  let y: Native | TensorInfo = x;
  for (const a of [...axes].sort((p, q) => q - p)) y = c.op(op, y, a, keepDims);
  return y;
}

def('Sum', (c, { x }, { axis, keepDims }) => {
  const axes = axesOf(x, axis);
  if (axes.length === 0) return c.out(x);
  const src = x.dtype === 'bool' ? c.op('aten::to.dtype', x, 'int32') : x;
  return c.out(c.op('aten::sum.dim_IntList', src, axes, Boolean(keepDims)), x.dtype === 'bool' ? 'int32' : x.dtype);
});
def('Mean', (c, { x }, { axis, keepDims }) => {
  const axes = axesOf(x, axis);
  const src = x.dtype === 'float32' ? x : c.op('aten::to.dtype', x, 'float32');
  if (axes.length === 0) return c.out(src, 'float32');
  return c.out(c.op('aten::mean.dim', src, axes, Boolean(keepDims)), 'float32');
});
def('Max', (c, { x }, { reductionIndices, axis, keepDims }) => {
  const axes = axesOf(x, reductionIndices ?? axis);
  if (axes.length === 0) return c.out(x);
  return c.out(c.op('aten::amax', x, axes, Boolean(keepDims)), x.dtype);
});
def('Min', (c, { x }, { axis, keepDims }) => {
  const axes = axesOf(x, axis);
  if (axes.length === 0) return c.out(x);
  return c.out(c.op('aten::amin', x, axes, Boolean(keepDims)), x.dtype);
});
def('Prod', (c, { x }, { axis, keepDims }) => {
  const axes = axesOf(x, axis);
  return c.out(reduceEach(c, x, axes, Boolean(keepDims), 'aten::prod.dim_int'), x.dtype === 'bool' ? 'int32' : x.dtype);
});
def('All', (c, { x }, { axis, keepDims }) => c.out(reduceEach(c, x, axesOf(x, axis), Boolean(keepDims), 'aten::all.dim'), 'bool'));
def('Any', (c, { x }, { axis, keepDims }) => c.out(reduceEach(c, x, axesOf(x, axis), Boolean(keepDims), 'aten::any.dim'), 'bool'));
def('ArgMax', (c, { x }, { axis }) => c.out(c.op('aten::argmax', x, axesOf(x, axis)[0]!, false), 'int32'));
def('ArgMin', (c, { x }, { axis }) => c.out(c.op('aten::argmin', x, axesOf(x, axis)[0]!, false), 'int32'));

function cumulative(op: string) {
  return (c: Ctx, { x }: { x: TensorInfo }, { axis, exclusive, reverse }: Attrs) => {
    const a = normAxis(axis, x.shape.length);
    const src: TensorInfo | Native = reverse ? c.op('aten::flip', x, [a]) : x;
    let y = c.op(op, src, a);
    if (exclusive) {
      // shift by one along the axis, filling with the identity (0 for sum, 1 for prod)
      const n = x.shape[a]!;
      const pad = Array(2 * x.shape.length).fill(0);
      pad[2 * (x.shape.length - 1 - a)] = 1;
      const head = c.op('aten::slice.Tensor', y, a, 0, Math.max(n - 1, 0), 1);
      y = c.op('aten::constant_pad_nd', head, pad, op === 'aten::cumsum' ? 0 : 1);
    }
    if (reverse) y = c.op('aten::flip', y, [a]);
    return c.out(y, x.dtype);
  };
}
def('Cumsum', cumulative('aten::cumsum'));
def('Cumprod', cumulative('aten::cumprod'));

def('Softmax', (c, { logits }, { dim }) => c.out(c.op('aten::_softmax', logits, normAxis(dim ?? -1, logits.shape.length), false), logits.dtype));

// ---- shapes -----------------------------------------------------------------------------------

def('Reshape', (c, { x }, { shape }) => {
  const s = tf.util.inferFromImplicitShape(shape, tf.util.sizeFromShape(x.shape));
  return c.out(c.op('aten::reshape', x, s), x.dtype);
});
def('Transpose', (c, { x }, { perm }) => c.out(c.op('aten::permute', x, perm), x.dtype));
def('ExpandDims', (c, { input }, { dim }) => c.out(c.op('aten::unsqueeze', input, dim < 0 ? dim + input.shape.length + 1 : dim), input.dtype));

function sliceNative(c: Ctx, x: TensorInfo, begin: number[], size: number[]): TensorInfo | Native {
  let y: TensorInfo | Native = x;
  for (let d = 0; d < x.shape.length; d++) {
    if (begin[d] === 0 && size[d] === x.shape[d]) continue;
    y = c.op('aten::slice.Tensor', y, d, begin[d]!, begin[d]! + size[d]!, 1);
  }
  return y;
}
def('Slice', (c, { x }, { begin, size }) => {
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  return c.out(sliceNative(c, x, b, s), x.dtype);
});
def('StridedSlice', (c, { x }, { begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask }) => {
  const info = tf.slice_util.sliceInfo(x.shape, begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask);
  let y: TensorInfo | Native = x;
  if (!info.isIdentity) {
    for (let d = 0; d < x.shape.length; d++) {
      const b = info.begin[d]!;
      const e = info.end[d]!;
      const s = info.strides[d]!;
      const n = Math.max(0, Math.ceil((e - b) / s));
      if (s === 1 && b === 0 && n === x.shape[d]) continue;
      if (s > 0) {
        y = c.op('aten::slice.Tensor', y, d, b, b + Math.max(n - 1, 0) * s + (n > 0 ? 1 : 0), s);
      } else {
        const idx = Int32Array.from({ length: n }, (_, i) => b + i * s);
        const id = c.backend.makeTensorInfo([n], 'int32', idx);
        try {
          y = c.op('aten::index_select', y, d, id);
        } finally {
          c.backend.disposeData(id.dataId);
        }
      }
    }
  }
  return c.out(c.op('aten::reshape', y, info.finalShape), x.dtype);
});
def('Concat', (c, inputs, { axis }) => {
  const xs = inputs as unknown as TensorInfo[];
  const a = tf.util.parseAxisParam(axis, xs[0]!.shape)[0]!;
  const dtype = xs.map((t) => t.dtype).reduce((p, q) => tf.upcastType(p, q));
  const nonEmpty = xs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (nonEmpty.length === 1) return c.out(nonEmpty[0]!, dtype);
  const outShape = tf.backend_util.computeOutShape(xs.map((t) => t.shape), a);
  if (nonEmpty.length === 0) return c.out(c.op('aten::zeros', outShape, dtype), dtype);
  return c.out(c.op('aten::cat', nonEmpty, a), dtype);
});
def('Pack', (c, inputs, { axis }) => {
  const xs = inputs as unknown as TensorInfo[];
  return c.out(c.op('aten::stack', xs, normAxis(axis, xs[0]!.shape.length + 1)), xs[0]!.dtype);
});
def('Unpack', (c, { value }, { axis }) => c.ops('aten::unbind.int', value, normAxis(axis, value.shape.length)).map((n) => c.out(n, value.dtype)));
def('SplitV', (c, { x }, { numOrSizeSplits, axis }) => {
  const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
  return c.ops('aten::split_with_sizes', x, sizes, a).map((n) => c.out(n, x.dtype));
});
def('Tile', (c, { x }, { reps }) => c.out(c.op('aten::repeat', x, reps), x.dtype));
def('PadV2', (c, { x }, { paddings, constantValue }) => {
  const pad: number[] = [];
  for (let d = x.shape.length - 1; d >= 0; d--) pad.push(paddings[d][0], paddings[d][1]);
  return c.out(c.op('aten::constant_pad_nd', x, pad, constantValue ?? 0), x.dtype);
});
def('MirrorPad', (c, { x }, { paddings, mode }) => {
  // by index: reflect excludes the edge, symmetric repeats it
  const off = mode === 'reflect' ? 0 : 1;
  let y: TensorInfo | Native = x;
  for (let d = 0; d < x.shape.length; d++) {
    const [before, after] = paddings[d] as [number, number];
    if (!before && !after) continue;
    const n = x.shape[d]!;
    const idx: number[] = [];
    for (let i = before; i > 0; i--) idx.push(i - off);
    for (let i = 0; i < n; i++) idx.push(i);
    for (let i = 1; i <= after; i++) idx.push(n - 1 - i + off);
    const it = c.backend.makeTensorInfo([idx.length], 'int32', Int32Array.from(idx));
    try {
      y = c.op('aten::index_select', y, d, it);
    } finally {
      c.backend.disposeData(it.dataId);
    }
  }
  return c.out(y, x.dtype);
});
def('Reverse', (c, { x }, { dims }) => {
  const axes = tf.util.parseAxisParam(dims, x.shape);
  return c.out(axes.length ? c.op('aten::flip', x, axes) : x, x.dtype);
});
def('Fill', (c, _inputs, { shape, value, dtype }) => {
  const dt: DataType = dtype ?? (typeof value === 'number' ? 'float32' : 'bool');
  if (dt === 'string') throw new Error('torch backend: Fill with strings is not supported');
  return c.out(c.op('aten::full', shape, typeof value === 'boolean' ? Number(value) : value, dt), dt);
});
def('Range', (c, _inputs, { start, stop, step, dtype }) => {
  const n = Math.max(Math.ceil((stop - start) / step), 0);
  if (n === 0) return c.out(c.op('aten::zeros', [0], dtype), dtype);
  // tfjs: values start + i·step (computed in float64, stored in float32/int32)
  const values = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return c.backend.makeTensorInfo([n], dtype, values);
});
def('LinSpace', (c, _inputs, { start, stop, num }) => c.out(c.op('aten::linspace', start, stop, num, 'float32'), 'float32'));
def('OneHot', (c, { indices }, { depth, onValue, offValue, dtype }) => {
  const ar = c.op('aten::arange', depth, 'int32');
  const mask = c.op('aten::eq.Tensor', c.op('aten::unsqueeze', indices, indices.shape.length), ar);
  const on = c.op('aten::full', [], onValue ?? 1, dtype ?? 'int32');
  const off = c.op('aten::full', [], offValue ?? 0, dtype ?? 'int32');
  return c.out(c.op('aten::where.self', mask, on, off), dtype ?? 'int32');
});

// ---- gathers and scatters ---------------------------------------------------------------------

const asLong = (c: Ctx, t: TensorInfo | Native) => c.raw('aten::to.dtype', t, 'int64');

def('GatherV2', (c, { x, indices }, { axis, batchDims }) => {
  const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const bd = batchDims ?? 0;
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, a, bd);
  // negative indices count from the end (tfjs clamps nothing either; out-of-range throws in torch)
  if (bd === 0) {
    const flat = c.op('aten::reshape', indices, [-1]);
    const picked = c.op('aten::index_select', x, a, flat);
    return c.out(c.op('aten::reshape', picked, info.outputShape), x.dtype);
  }
  const x4 = c.op('aten::reshape', x, [info.batchSize, info.outerSize, info.dimSize, info.sliceSize]);
  const per = tf.util.sizeFromShape(indices.shape) / info.batchSize;
  // aten::gather takes int64 indices: keep the chain raw (no narrowing back to int32)
  const idx = c.raw('aten::reshape', asLong(c, indices), [info.batchSize, 1, per, 1]);
  const expanded = c.raw('aten::expand', idx, [info.batchSize, info.outerSize, per, info.sliceSize]);
  const picked = c.op('aten::gather', x4, 2, expanded, false);
  return c.out(c.op('aten::reshape', picked, info.outputShape), x.dtype);
});

function flatNdIndices(c: Ctx, indices: TensorInfo, strides: number[]): Native {
  const k = indices.shape[indices.shape.length - 1]!;
  const st = c.backend.makeTensorInfo([k], 'int32', Int32Array.from(strides));
  try {
    const idx = c.op('aten::reshape', indices, [-1, k]);
    return c.op('aten::sum.dim_IntList', c.op('aten::mul.Tensor', idx, st), [1], false);
  } finally {
    c.backend.disposeData(st.dataId);
  }
}
def('GatherNd', (c, { params, indices }) => {
  const [resultShape, numSlices, sliceSize, strides] = tf.backend_util.prepareAndValidate(params as tf.Tensor, indices as tf.Tensor);
  if (numSlices === 0) return c.out(c.op('aten::zeros', resultShape, params.dtype), params.dtype);
  const flatParams = c.op('aten::reshape', params, [tf.util.sizeFromShape(params.shape) / sliceSize, sliceSize]);
  const picked = c.op('aten::index_select', flatParams, 0, flatNdIndices(c, indices, strides));
  return c.out(c.op('aten::reshape', picked, resultShape), params.dtype);
});
def('ScatterNd', (c, { indices, updates }, { shape }) => {
  const { sliceRank, numUpdates, sliceSize, strides, outputSize } = tf.backend_util.calculateShapes(updates as tf.Tensor, indices as tf.Tensor, shape);
  void sliceRank;
  const zeros = c.op('aten::zeros', [outputSize / sliceSize, sliceSize], updates.dtype);
  const upd = c.op('aten::reshape', updates, [numUpdates, sliceSize]);
  const out = c.op('aten::index_add', zeros, 0, flatNdIndices(c, indices, strides), upd, 1);
  return c.out(c.op('aten::reshape', out, shape), updates.dtype);
});
def('UnsortedSegmentSum', (c, { x, segmentIds }, { numSegments }) => {
  const rest = x.shape.slice(segmentIds.shape.length);
  const zeros = c.op('aten::zeros', [numSegments, ...rest], x.dtype);
  const ids = c.op('aten::reshape', segmentIds, [-1]);
  const src = c.op('aten::reshape', x, [-1, ...rest]);
  return c.out(c.op('aten::index_add', zeros, 0, ids, src, 1), x.dtype);
});
def('TopK', (c, { x }, { k, sorted }) => {
  const [values, indices] = c.ops('aten::topk', x, k, -1, true, sorted ?? true);
  return [c.out(values!, x.dtype), c.out(indices!, 'int32')];
});

// ---- matrix products --------------------------------------------------------------------------

function matmul(c: Ctx, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Native {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const t = (x: TensorInfo | Native) => c.op('aten::transpose.int', x, -2, -1);
  if (batchB === 1 && !transposeA) {
    // shared right operand (a linear layer): one [batch·m, k] × [k, n] product
    const k = a.shape[ra - 1]!;
    const a2 = c.op('aten::reshape', a, [batchA * m, k]);
    const b2raw = rb === 2 ? b : c.op('aten::reshape', b, b.shape.slice(-2));
    const b2 = transposeB ? t(b2raw) : b2raw;
    return c.op('aten::reshape', c.op('aten::mm', a2, b2), [...outBatch, m, n]);
  }
  const a2 = transposeA ? t(a) : a;
  const b2 = transposeB ? t(b) : b;
  return c.op('aten::matmul', a2, b2);
}
def('BatchMatMul', (c, { a, b }, { transposeA, transposeB }) => c.out(matmul(c, a, b, Boolean(transposeA), Boolean(transposeB)), a.dtype));

function activate(c: Ctx, y: Native, activation: string | undefined, prelu?: TensorInfo, alpha?: number): Native {
  switch (activation ?? 'linear') {
    case 'linear':
      return y;
    case 'relu':
      return c.op('aten::relu', y);
    case 'relu6':
      return c.op('aten::hardtanh', y, 0, 6);
    case 'elu':
      return c.op('aten::elu', y, 1, 1, 1);
    case 'sigmoid':
      return c.op('aten::sigmoid', y);
    case 'leakyrelu':
      return c.op('aten::leaky_relu', y, alpha ?? 0.2);
    case 'prelu':
      return c.op('aten::where.self', c.op('aten::gt.Scalar', y, 0), y, c.op('aten::mul.Tensor', y, prelu!));
    default:
      throw new Error(`torch backend: unknown fused activation ${activation}`);
  }
}
def('_FusedMatMul', (c, { a, b, bias, preluActivationWeights }, { transposeA, transposeB, activation, leakyreluAlpha }) => {
  let y = matmul(c, a, b, Boolean(transposeA), Boolean(transposeB));
  if (bias) y = c.op('aten::add.Tensor', y, bias, 1);
  return c.out(activate(c, y, activation, preluActivationWeights, leakyreluAlpha), a.dtype);
});
def('Einsum', (c, inputs, { equation }) => {
  const xs = inputs as unknown as TensorInfo[];
  return c.out(c.op('aten::einsum', equation, xs), xs[0]!.dtype);
});

// ---- images -----------------------------------------------------------------------------------

def('ResizeBilinear', (c, { images }, { alignCorners, halfPixelCenters, size }) => {
  if (!alignCorners && !halfPixelCenters) {
    throw new Error('torch backend: ResizeBilinear without halfPixelCenters (legacy TF sampling) is not supported; use halfPixelCenters: true');
  }
  const nchw = c.op('aten::permute', images, [0, 3, 1, 2]);
  const y = c.op('aten::upsample_bilinear2d', images.dtype === 'float32' ? nchw : c.op('aten::to.dtype', nchw, 'float32'), size, Boolean(alignCorners), null, null);
  return c.out(c.op('aten::permute', y, [0, 2, 3, 1]), 'float32');
});
def('ResizeBilinearGrad', (c, { images, dy }, { alignCorners }) => {
  const [n, h, w, ch] = images.shape as [number, number, number, number];
  const g = c.op('aten::permute', dy, [0, 3, 1, 2]);
  const dx = c.op('aten::upsample_bilinear2d_backward', g, [dy.shape[1]!, dy.shape[2]!], [n, ch, h, w], Boolean(alignCorners), null, null);
  return c.out(c.op('aten::permute', dx, [0, 2, 3, 1]), 'float32');
});
