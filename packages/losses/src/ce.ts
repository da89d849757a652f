import { definePlugin, tf, z, type LossInputs, type LossTerm } from '@dfdet/core';
import { asInt32 } from './util.js';

/**
 * Mean cross-entropy of `logits` [N, C] against integer `labels` [N], with torch's label smoothing
 * (F.cross_entropy(logits, labels, label_smoothing=ε), reduction 'mean'):
 *   loss_i = (1 − ε)(−log p_{i,y_i}) + ε/C · Σ_k (−log p_{i,k})
 * i.e. the CE against the target distribution q = (1 − ε)·onehot(y) + ε/C. log p is a
 * log-softmax (max-shifted, numerically stable). The one-hot comes from the labels, which are never
 * differentiated, so tf.oneHot is used only to build a constant; the differentiable path is
 * logSoftmax → multiply → sum (no gather, no UnsortedSegmentSum).
 *
 * Official: src/loss.py, `F.cross_entropy(inputs.logits_labels, inputs.labels, label_smoothing=...)`
 * scaled by the `ce_labels` weight.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new Error(`label_smoothing must be in [0, 1), got ${labelSmoothing}`);
  const [n, c] = logits.shape;
  if (labels.shape[0] !== n) throw new Error(`cross-entropy: ${n} logits rows but ${labels.shape[0]} labels`);
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits, 1);
    // q = (1 − ε)·onehot + ε/C; the one-hot is built as int 0/1 (every backend's OneHot) and cast.
    const onehot = tf.cast(tf.oneHot(asInt32(labels), c), 'float32');
    const target = labelSmoothing === 0 ? onehot : tf.add(tf.mul(onehot, 1 - labelSmoothing), labelSmoothing / c);
    // −Σ_i Σ_k q_ik log p_ik / N
    return tf.div(tf.neg(tf.sum(tf.mul(target, logp))), n) as tf.Scalar;
  });
}

export class CrossEntropyLoss implements LossTerm {
  readonly name = 'ce';
  constructor(
    readonly weight: number,
    readonly labelSmoothing: number,
  ) {}
  compute(inputs: LossInputs): tf.Scalar {
    return crossEntropy(inputs.logits, inputs.labels, this.labelSmoothing);
  }
}

export const ce = definePlugin({
  kind: 'loss',
  name: 'ce',
  description: 'mean cross-entropy of the head logits vs labels, with optional torch-style label smoothing',
  options: z.object({
    weight: z.number().min(0).default(1).describe('loss weight (official: loss.ce_labels)'),
    label_smoothing: z.number().min(0).lt(1).default(0).describe('torch label smoothing ε: target = (1−ε)·onehot + ε/C'),
  }),
  create: (o) => new CrossEntropyLoss(o.weight, o.label_smoothing),
});
