import { layerNorm as fusedLayerNorm, quickGelu as fusedQuickGelu, tf } from '@dfdet/core';
import { Layer } from './module.js';

/** y = x Wᵀ + b with W stored [out, in] like torch.nn.Linear. */
export class Linear extends Layer {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; init: InitFn },
  ) {
    super();
    this.weight = this.param('weight', opts.init('weight', [outFeatures, inFeatures]));
    if (opts.bias !== false) this.bias = this.param('bias', opts.init('bias', [outFeatures]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/**
 * Applies a linear map to the last axis. The input is flattened to 2-D first: tfjs's matMul
 * gradient does not reduce broadcast batch dimensions, and a 2-D product is the fast path.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inF = x.shape[x.shape.length - 1]!;
    const outF = weight.shape[0]!;
    const x2 = x.reshape([-1, inF]);
    let y = tf.matMul(x2, weight, false, true);
    if (bias) y = tf.add(y, bias);
    return y.reshape([...x.shape.slice(0, -1), outF]);
  });
}

export class LayerNorm extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps: number,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.bias = this.param('bias', tf.zeros([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** LayerNorm over the last axis (biased variance, as torch); a native kernel where the backend has one. */
export const layerNorm = fusedLayerNorm;

/** quick_gelu(x) = x · σ(1.702 x), CLIP's activation; a native kernel where the backend has one. */
export const quickGelu = fusedQuickGelu;

export type InitFn = (name: string, shape: number[]) => tf.Tensor;
