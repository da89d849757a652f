/**
 * Native kernels for core's fused ops (packages/core/src/ops/fused.ts): layer norm, attention and
 * quick_gelu, each forward and backward as a few ATen calls. Core's ops use them whenever the
 * active backend has them, and decompose into standard tfjs ops elsewhere.
 */
import { FUSED_KERNELS, QUICK_GELU_ALPHA, type tf } from '@dfdet/core';
import type { Ctx, Native } from './backend.js';
import { TORCH_KERNELS } from './kernels.js';

type TensorInfo = tf.TensorInfo;

TORCH_KERNELS.set(FUSED_KERNELS.layerNorm, (c, { x, weight, bias }: Record<string, TensorInfo>, { eps }) => {
  const d = x.shape[x.shape.length - 1]!;
  const [y, mean, rstd] = c.ops('aten::native_layer_norm', x, [d], weight, bias, eps);
  return [c.out(y!, 'float32'), c.out(mean!, 'float32'), c.out(rstd!, 'float32')];
});

TORCH_KERNELS.set(FUSED_KERNELS.layerNormGrad, (c, { dy, x, mean, rstd, weight, bias }: Record<string, TensorInfo>) => {
  const d = x.shape[x.shape.length - 1]!;
  const [dx, dw, db] = c.ops('aten::native_layer_norm_backward', dy, x, [d], mean, rstd, weight, bias, [true, true, true]);
  return [c.out(dx!, 'float32'), c.out(dw!, 'float32'), c.out(db!, 'float32')];
});

TORCH_KERNELS.set(FUSED_KERNELS.quickGelu, (c, { x }: Record<string, TensorInfo>) => {
  return c.out(c.op('aten::mul.Tensor', x, c.op('aten::sigmoid', c.op('aten::mul.Scalar', x, QUICK_GELU_ALPHA))), 'float32');
});

TORCH_KERNELS.set(FUSED_KERNELS.quickGeluGrad, (c, { dy, x }: Record<string, TensorInfo>) => {
  // d/dx x·σ(ax) = σ(ax) + ax·σ(ax)(1 − σ(ax))
  const ax = c.op('aten::mul.Scalar', x, QUICK_GELU_ALPHA);
  const s = c.op('aten::sigmoid', ax);
  const ds = c.op('aten::sigmoid_backward', ax, s); // ax · s(1 − s)
  return c.out(c.op('aten::mul.Tensor', dy, c.op('aten::add.Tensor', s, ds, 1)), 'float32');
});

function heads(c: Ctx, y: TensorInfo | Native, n: number, t: number, h: number) {
  const d = c.shape(y)[2]!;
  return c.op('aten::transpose.int', c.op('aten::reshape', y, [n, t, h, d / h]), 1, 2); // [N, H, T, Dh] (a view)
}

function merge(c: Ctx, y: Native, n: number, t: number, d: number) {
  return c.op('aten::reshape', c.op('aten::transpose.int', y, 1, 2), [n, t, d]);
}

TORCH_KERNELS.set(FUSED_KERNELS.attention, (c, { q, k, v }: Record<string, TensorInfo>, { numHeads, scale }) => {
  const [n, t, d] = q.shape as [number, number, number];
  const qh = heads(c, c.op('aten::mul.Scalar', q, scale), n, t, numHeads);
  const kh = heads(c, k, n, t, numHeads);
  const vh = heads(c, v, n, t, numHeads);
  const probs = c.op('aten::_softmax', c.op('aten::matmul', qh, c.op('aten::transpose.int', kh, -2, -1)), -1, false);
  const out = merge(c, c.op('aten::matmul', probs, vh), n, t, d);
  return [c.out(out, 'float32'), c.out(probs, 'float32')];
});

TORCH_KERNELS.set(FUSED_KERNELS.attentionGrad, (c, { dy, q, k, v, probs }: Record<string, TensorInfo>, { numHeads, scale }) => {
  const [n, t, d] = q.shape as [number, number, number];
  const qh = heads(c, c.op('aten::mul.Scalar', q, scale), n, t, numHeads);
  const kh = heads(c, k, n, t, numHeads);
  const vh = heads(c, v, n, t, numHeads);
  const dyh = heads(c, dy, n, t, numHeads);
  const tr = (x: TensorInfo | Native) => c.op('aten::transpose.int', x, -2, -1);
  const dv = c.op('aten::matmul', tr(probs), dyh);
  const dp = c.op('aten::matmul', dyh, tr(vh));
  const ds = c.op('aten::_softmax_backward_data', dp, probs, -1, 'float32');
  const dq = c.op('aten::mul.Scalar', c.op('aten::matmul', ds, kh), scale);
  const dk = c.op('aten::matmul', tr(ds), qh);
  return [c.out(merge(c, dq, n, t, d), 'float32'), c.out(merge(c, dk, n, t, d), 'float32'), c.out(merge(c, dv, n, t, d), 'float32')];
});
