import { definePlugin, tf, z, type LossInputs, type LossTerm } from '@dfdet/core';
import { asInt32, connectedZero, pairwiseSquaredDistances, upperTriangle } from './util.js';

/** Squared distances below this are treated as this when α ≠ 2, so d^α's gradient stays finite at d = 0. */
export const ALIGNMENT_SQ_EPS = 1e-12;

/**
 * Label-aware alignment exactly as the official src/losses/unifalign.py `alignment`:
 * mean over pairs i < j with y_i == y_j of ‖z_i − z_j‖₂^α; 0 when there is no such pair (or N < 2).
 * Computed on `LossInputs.normalized` (official: `outputs.features`, the head's F.normalize of the
 * post-slerp features).
 *
 * The pair mask is built from the labels (never differentiated) as (y_i == y_j) ∧ (i < j) and
 * multiplied in; squared distances come from one matMul. α = 2 uses the squared distance directly
 * (gradient 2(z_i − z_j), finite and 0 at coincident points, as torch's norm backward gives).
 * Other α use max(d², 1e-12)^(α/2): below the clamp the gradient is 0 instead of ∞/NaN (for α < 2
 * the true gradient is unbounded at d = 0). Note the matMul form carries ~1e-7 rounding on d² in
 * float32, which matters only for α < 2 near coincident points.
 */
export function alignmentLoss(z: tf.Tensor2D, labels: tf.Tensor1D, alpha = 2): tf.Scalar {
  const n = z.shape[0];
  if (labels.shape[0] !== n) throw new Error(`alignment: ${n} feature rows but ${labels.shape[0]} labels`);
  if (n < 2) return connectedZero(z);
  return tf.tidy(() => {
    const y = asInt32(labels);
    const same = tf.cast(tf.equal(tf.expandDims(y, 1), tf.expandDims(y, 0)), 'float32');
    const mask = tf.mul(same, tf.tensor2d(upperTriangle(n), [n, n]));
    const count = tf.sum(mask);
    const sq = pairwiseSquaredDistances(z);
    const dist = alpha === 2 ? sq : tf.pow(tf.maximum(sq, ALIGNMENT_SQ_EPS), alpha / 2);
    // no pair → 0 / max(0, 1) = 0
    return tf.div(tf.sum(tf.mul(dist, mask)), tf.maximum(count, 1)) as tf.Scalar;
  });
}

export class AlignmentLoss implements LossTerm {
  readonly name = 'alignment';
  constructor(
    readonly weight: number,
    readonly alpha: number,
  ) {}
  compute(inputs: LossInputs): tf.Scalar {
    return alignmentLoss(inputs.normalized, inputs.labels, this.alpha);
  }
}

export const alignment = definePlugin({
  kind: 'loss',
  name: 'alignment',
  description: 'label-aware alignment: mean over same-label pairs i<j of ‖z_i − z_j‖^α on the L2-normalized (post-slerp) features',
  options: z.object({
    weight: z.number().min(0).default(0.1).describe('loss weight (official: loss.alignment_labels)'),
    alpha: z.number().positive().default(2).describe('power α of the pair distance'),
  }),
  create: (o) => new AlignmentLoss(o.weight, o.alpha),
});
