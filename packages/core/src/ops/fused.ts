/**
 * Fused ops of the CLIP ViT: layer norm, multi-head attention and quick_gelu. A backend that has
 * native kernels for them registers kernels under FUSED_KERNELS' names (the torch backend does:
 * ATen's native_layer_norm and its backward, …); then each op is one tfjs op with a hand-written
 * gradient (tf.customGrad). Elsewhere the op decomposes into standard tfjs ops, which tfjs
 * differentiates as usual. Model code calls these and never asks which backend runs.
 */
import * as tf from '../tf.js';

export const FUSED_KERNELS = {
  layerNorm: 'FusedLayerNorm',
  layerNormGrad: 'FusedLayerNormGrad',
  quickGelu: 'FusedQuickGelu',
  quickGeluGrad: 'FusedQuickGeluGrad',
  attention: 'FusedAttention',
  attentionGrad: 'FusedAttentionGrad',
} as const;

type GradFn = Parameters<typeof tf.customGrad>[0];
/** tf.customGrad with the inputs typed (tfjs types them all as Tensor | GradSaveFunc). */
const customGrad = (f: (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] }) =>
  tf.customGrad(f as unknown as GradFn);

/** Whether the active backend has a native kernel for `name` (and its gradient). */
export const hasNativeKernel = (name: string, grad: string) => {
  const backend = tf.getBackend();
  return tf.getKernel(name, backend) !== undefined && tf.getKernel(grad, backend) !== undefined;
};
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor | tf.Tensor[];

// ---- layer norm ---------------------------------------------------------------------------------

/** LayerNorm over the last axis, biased variance (torch.nn.LayerNorm), in standard tfjs ops. */
export function layerNormDecomposed(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const axis = x.shape.length - 1;
    const mean = tf.mean(x, axis, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axis, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, weight), bias);
  });
}

const layerNormNative = (eps: number) =>
  customGrad((x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, rstd] = run(FUSED_KERNELS.layerNorm, { x, weight, bias }, { eps }) as tf.Tensor[];
    save([x, weight, bias, mean!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sw, sb, sm, sr] = saved;
        return run(FUSED_KERNELS.layerNormGrad, { dy: dy as tf.Tensor, x: sx!, mean: sm!, rstd: sr!, weight: sw!, bias: sb! }) as tf.Tensor[];
      },
    };
  });

/** LayerNorm over the last axis with biased variance (torch.nn.LayerNorm). */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  if (!hasNativeKernel(FUSED_KERNELS.layerNorm, FUSED_KERNELS.layerNormGrad)) return layerNormDecomposed(x, weight, bias, eps);
  return layerNormNative(eps)(x, weight, bias);
}

// ---- quick_gelu ---------------------------------------------------------------------------------

export const QUICK_GELU_ALPHA = 1.702;

export function quickGeluDecomposed(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, QUICK_GELU_ALPHA))));
}

const quickGeluNative = customGrad((x: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: run(FUSED_KERNELS.quickGelu, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => run(FUSED_KERNELS.quickGeluGrad, { dy: dy as tf.Tensor, x: saved[0]! }) as tf.Tensor,
  };
});

/** quick_gelu(x) = x · σ(1.702 x), CLIP's activation. */
export function quickGelu(x: tf.Tensor): tf.Tensor {
  return hasNativeKernel(FUSED_KERNELS.quickGelu, FUSED_KERNELS.quickGeluGrad) ? quickGeluNative(x) : quickGeluDecomposed(x);
}

// ---- attention ----------------------------------------------------------------------------------

/** softmax((q·scale) kᵀ) v per head, in standard tfjs ops; optionally also the probabilities. */
export function attentionDecomposed(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, numHeads: number, scale: number): tf.Tensor3D {
  return attentionWithProbs(q, k, v, numHeads, scale).out;
}

export function attentionWithProbs(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, numHeads: number, scale: number): { out: tf.Tensor3D; probs: tf.Tensor4D } {
  const [n, t, d] = q.shape;
  const split = (y: tf.Tensor) => y.reshape([n, t, numHeads, d / numHeads]).transpose([0, 2, 1, 3]);
  const probs = tf.softmax(tf.matMul(split(tf.mul(q, scale)), split(k), false, true)) as tf.Tensor4D;
  const out = tf.matMul(probs, split(v)).transpose([0, 2, 1, 3]).reshape([n, t, d]) as tf.Tensor3D;
  return { out, probs };
}

const attentionNative = (numHeads: number, scale: number) =>
  customGrad((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, probs] = run(FUSED_KERNELS.attention, { q, k, v }, { numHeads, scale }) as tf.Tensor[];
    save([q, k, v, probs!]);
    return {
      value: out!,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved;
        return run(FUSED_KERNELS.attentionGrad, { dy: dy as tf.Tensor, q: sq!, k: sk!, v: sv!, probs: sp! }, { numHeads, scale }) as tf.Tensor[];
      },
    };
  });

/**
 * Multi-head self-attention on projected q, k, v [N, T, D]: softmax((q·scale) kᵀ) v per head,
 * heads merged back to [N, T, D] (before out_proj).
 */
export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, numHeads: number, scale: number): tf.Tensor3D {
  const d = q.shape[2];
  if (d % numHeads !== 0) throw new Error(`attention: width ${d} is not a multiple of ${numHeads} heads`);
  if (!hasNativeKernel(FUSED_KERNELS.attention, FUSED_KERNELS.attentionGrad)) return tf.tidy(() => attentionDecomposed(q, k, v, numHeads, scale));
  return attentionNative(numHeads, scale)(q, k, v) as tf.Tensor3D;
}
