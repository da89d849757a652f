import { definePlugin, tf, z, type LossInputs, type LossTerm } from '@dfdet/core';
import { connectedZero, pairwiseSquaredDistances, upperTriangle } from './util.js';

/**
 * Uniformity (Wang & Isola 2020) exactly as the official src/losses/unifalign.py:
 *   torch.pdist(x).pow(2).mul(-t).exp().mean().clamp(min=clamp_min).log()
 * = log(max(mean_{i<j} exp(−t‖z_i − z_j‖²), clamp_min)) over the N(N−1)/2 pairs i < j.
 * The clamp acts on the mean, before the log (below it the gradient is 0, as torch's clamp).
 *
 * `z` should be the L2-normalized features: the official training passes `outputs.features`,
 * which LinearProbe(normalize_inputs=True) sets to F.normalize of the head input, i.e. of the
 * features AFTER slerp augmentation (src/heads/head.py, src/model/dfdet.py training_step) —
 * `LossInputs.normalized` here.
 *
 * Squared distances come from one matMul (‖a‖² + ‖b‖² − 2a·b, clamped at 0) and the pairs from a
 * constant upper-triangle mask: no gather.
 *
 * N < 2: there is no pair. torch would take the mean of an empty tensor (NaN) and the official
 * Loss then replaces the whole NaN total by 0; here the term is simply 0 (still connected to `z`
 * in the gradient tape, so it can be summed into a differentiated total).
 */
export function uniformityLoss(z: tf.Tensor2D, t = 2, clampMin = 1e-6): tf.Scalar {
  const n = z.shape[0];
  if (n < 2) return connectedZero(z);
  return tf.tidy(() => {
    const mask = tf.tensor2d(upperTriangle(n), [n, n]);
    const kernel = tf.exp(tf.mul(pairwiseSquaredDistances(z), -t));
    const mean = tf.div(tf.sum(tf.mul(kernel, mask)), (n * (n - 1)) / 2);
    return tf.log(tf.maximum(mean, clampMin)) as tf.Scalar;
  });
}

export class UniformityLoss implements LossTerm {
  readonly name = 'uniformity';
  constructor(
    readonly weight: number,
    readonly t: number,
    readonly clampMin: number,
  ) {}
  compute(inputs: LossInputs): tf.Scalar {
    return uniformityLoss(inputs.normalized, this.t, this.clampMin);
  }
}

export const uniformity = definePlugin({
  kind: 'loss',
  name: 'uniformity',
  description: 'uniformity on the hypersphere: log mean_{i<j} exp(−t‖z_i − z_j‖²) of the L2-normalized (post-slerp) features',
  options: z.object({
    weight: z.number().min(0).default(0.1).describe('loss weight (official: loss.uniformity)'),
    t: z.number().positive().default(2).describe('temperature t'),
    clamp_min: z.number().positive().default(1e-6).describe('the mean is clamped to at least this before the log'),
  }),
  create: (o) => new UniformityLoss(o.weight, o.t, o.clamp_min),
});
