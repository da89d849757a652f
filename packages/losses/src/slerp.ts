import { definePlugin, tf, z, type FeatureAugmentation, type Rng } from '@dfdet/core';
import { l2Normalize } from './util.js';

/** The official cosine clamp: dot ∈ [−1 + 1e-7, 1 − 1e-7] (in float32 the bound rounds to 1 − 2⁻²³). */
export const SLERP_CLAMP = 1e-7;

/** Interpolation weight(s): a number, a [N] or a [N, 1] tensor. */
export type SlerpT = number | tf.Tensor;

/** Every intermediate of one slerp, for inspection and tests. All [N, 1] except `output` [N, D]. */
export interface SlerpParts {
  output: tf.Tensor2D;
  omega: tf.Tensor2D;
  coeffA: tf.Tensor2D;
  coeffB: tf.Tensor2D;
}

function tColumn(t: SlerpT): tf.Tensor {
  if (typeof t === 'number') return tf.scalar(t);
  if (t.rank === 0) return t;
  if (t.rank === 1) return tf.reshape(t, [t.shape[0]!, 1]);
  if (t.rank === 2 && t.shape[1] === 1) return t;
  throw new Error(`slerp: t must be a number, [N] or [N, 1]; got shape [${t.shape.join(', ')}]`);
}

function rowDot(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(tf.mul(a, b), 1, true) as tf.Tensor2D;
}

/**
 * The official slerp (src/model/dfdet.py `slerp`), row-wise:
 *   A = F.normalize(a), B = F.normalize(b); θ = acos(clamp(A·B, −1 + 1e-7, 1 − 1e-7));
 *   out = sin(θ − tθ)/sin θ · A + sin(tθ)/sin θ · B          (unit length)
 * The clamp keeps a self-pair (a == b) finite: θ = acos(1 − 1e-7) ≈ 4.47e-4 in float64
 * (≈ 4.88e-4 in float32, where the bound rounds to 1 − 2⁻²³), giving out ≈ A.
 */
export function slerpNormalizedParts(a: tf.Tensor2D, b: tf.Tensor2D, t: SlerpT): SlerpParts {
  return tf.tidy(() => {
    const A = l2Normalize(a);
    const B = l2Normalize(b);
    const dot = tf.clipByValue(rowDot(A, B), -1 + SLERP_CLAMP, 1 - SLERP_CLAMP);
    const theta = tf.acos(dot) as tf.Tensor2D;
    const sinTheta = tf.sin(theta);
    const tTheta = tf.mul(tColumn(t), theta);
    const coeffA = tf.div(tf.sin(tf.sub(theta, tTheta)), sinTheta) as tf.Tensor2D;
    const coeffB = tf.div(tf.sin(tTheta), sinTheta) as tf.Tensor2D;
    const output = tf.add(tf.mul(coeffA, A), tf.mul(coeffB, B)) as tf.Tensor2D;
    return { output, omega: theta, coeffA, coeffB };
  });
}

/** {@link slerpNormalizedParts}'s output: what the official training applies to the pooled features. */
export function slerpNormalized(a: tf.Tensor2D, b: tf.Tensor2D, t: SlerpT): tf.Tensor2D {
  return tf.tidy(() => slerpNormalizedParts(a, b, t).output);
}

/**
 * Slerp of the RAW vectors (the textbook formula, not what the official code trains with):
 *   ω = acos(clamp(â·b̂, −1, 1)) with v̂ = v/‖v‖ (no eps);
 *   out = sin((1 − t)ω)/sin ω · a + sin(tω)/sin ω · b         (not unit length)
 * Undefined (0/0) for parallel a, b; unequal norms re-weight the mix, so its direction differs from
 * {@link slerpNormalized} in general.
 */
export function slerpRawParts(a: tf.Tensor2D, b: tf.Tensor2D, t: SlerpT): SlerpParts {
  return tf.tidy(() => {
    const ua = tf.div(a, tf.norm(a, 2, 1, true)) as tf.Tensor2D;
    const ub = tf.div(b, tf.norm(b, 2, 1, true)) as tf.Tensor2D;
    const omega = tf.acos(tf.clipByValue(rowDot(ua, ub), -1, 1)) as tf.Tensor2D;
    const sinOmega = tf.sin(omega);
    const tc = tColumn(t);
    const coeffA = tf.div(tf.sin(tf.mul(tf.sub(1, tc), omega)), sinOmega) as tf.Tensor2D;
    const coeffB = tf.div(tf.sin(tf.mul(tc, omega)), sinOmega) as tf.Tensor2D;
    const output = tf.add(tf.mul(coeffA, a), tf.mul(coeffB, b)) as tf.Tensor2D;
    return { output, omega, coeffA, coeffB };
  });
}

export function slerpRaw(a: tf.Tensor2D, b: tf.Tensor2D, t: SlerpT): tf.Tensor2D {
  return tf.tidy(() => slerpRawParts(a, b, t).output);
}

/** Host-side draw of one batch's slerp: per row its partner, t and whether it is augmented. */
export interface SlerpPlan {
  /** partners[i]: the row slerped with row i (same label; may be i itself); i where not augmented. */
  partners: Int32Array;
  /** t per row (0 where not augmented). */
  t: Float64Array;
  /** 1 where the row is replaced by its slerp. */
  augmented: Uint8Array;
}

/**
 * The official partner / t draw (src/model/dfdet.py `slerp_feature_augmentation`): for each class in
 * ascending label order (torch.unique is sorted) with at least 2 rows — classes with fewer are left
 * untouched and consume no randomness — draw a random permutation of the class's rows (torch.randperm;
 * a row may be its own partner) and then one t ~ U[t_min, t_max) per row, in row order
 * (torch.rand(n, 1) · (t1 − t0) + t0).
 */
export function planSlerp(labels: ArrayLike<number>, rng: Rng, tMin = 0, tMax = 1): SlerpPlan {
  const n = labels.length;
  const partners = Int32Array.from({ length: n }, (_, i) => i);
  const t = new Float64Array(n);
  const augmented = new Uint8Array(n);
  const classes = [...new Set(Array.from(labels))].sort((x, y) => x - y);
  for (const c of classes) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === c) rows.push(i);
    if (rows.length < 2) continue;
    const perm = rng.permutation(rows.length);
    rows.forEach((row, k) => {
      partners[row] = rows[perm[k]!]!;
      augmented[row] = 1;
    });
    for (const row of rows) t[row] = rng.next() * (tMax - tMin) + tMin;
  }
  return { partners, t, augmented };
}

/**
 * Applies a plan: each augmented row becomes slerpNormalized(row, partner row, t); other rows pass
 * through unchanged (raw, as in the official code).
 *
 * Partners are selected with a constant one-hot permutation matrix P [N, N] (P[i, partners[i]] = 1)
 * and a matMul, not tf.gather: the features are differentiated during training (LN-tuning, LoRA) and
 * gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks. matMul's gradient Pᵀ·dy
 * is exact for a 0/1 matrix.
 *
 * Gradient: NOT detached. The official code takes the partners as `class_features[randperm]` from the
 * same non-detached tensor, so the gradient flows into a row both as the slerp's start point and as
 * other rows' partner; this does the same (dL/dfeatures = ∂/∂A + Pᵀ·∂/∂B).
 */
export function applySlerpPlan(features: tf.Tensor2D, plan: SlerpPlan): tf.Tensor2D {
  const [n] = features.shape;
  if (plan.partners.length !== n) throw new Error(`slerp: plan for ${plan.partners.length} rows, features have ${n}`);
  return tf.tidy(() => {
    const p = new Float32Array(n * n);
    for (let i = 0; i < n; i++) p[i * n + plan.partners[i]!] = 1;
    const partner = tf.matMul(tf.tensor2d(p, [n, n]), features) as tf.Tensor2D;
    const t = tf.tensor2d(Float32Array.from(plan.t), [n, 1]);
    const mixed = slerpNormalized(features, partner, t);
    if (plan.augmented.every((v) => v === 1)) return mixed;
    // rows left alone stay raw; their slerp branch (self-pair at t = 0, finite) gets a 0 gradient
    const mask = tf.tensor2d(Float32Array.from(plan.augmented), [n, 1]);
    return tf.add(tf.mul(mixed, mask), tf.mul(features, tf.sub(1, mask))) as tf.Tensor2D;
  });
}

/**
 * The `slerp` feature augmentation (official `slerp_feature_augmentation: true`, range
 * `slerp_feature_augmentation_range: [t_min, t_max]`), applied to the backbone's pooled features
 * before the head during training. `p` (not in the official code, which always augments) is the
 * probability that a batch is augmented at all; with p = 1 no extra random number is drawn, so the
 * stream of draws is exactly the official one (per class: permutation, then t's).
 * Always returns a new tensor (an identity copy when nothing is augmented).
 */
export class SlerpAugmentation implements FeatureAugmentation {
  readonly stage = 'feature' as const;
  readonly name = 'slerp';
  constructor(
    readonly tMin = 0,
    readonly tMax = 1,
    readonly p = 1,
  ) {
    if (!(tMin <= tMax)) throw new Error(`slerp: t_min (${tMin}) must be <= t_max (${tMax})`);
  }

  plan(labels: ArrayLike<number>, rng: Rng): SlerpPlan | null {
    if (this.p < 1 && !(rng.next() < this.p)) return null;
    const plan = planSlerp(labels, rng, this.tMin, this.tMax);
    return plan.augmented.some((v) => v === 1) ? plan : null;
  }

  apply(features: tf.Tensor2D, labels: Int32Array, rng: Rng): tf.Tensor2D {
    if (labels.length !== features.shape[0]) {
      throw new Error(`slerp: ${features.shape[0]} feature rows but ${labels.length} labels`);
    }
    const plan = this.plan(labels, rng);
    return plan ? applySlerpPlan(features, plan) : (tf.clone(features) as tf.Tensor2D);
  }
}

export const slerp = definePlugin({
  kind: 'augmentation',
  name: 'slerp',
  description: 'feature augmentation: slerp each feature toward a random same-class partner (official dfdet slerp)',
  options: z.object({
    t_min: z.number().default(0).describe('lower end of t ~ U[t_min, t_max] (official slerp_feature_augmentation_range[0])'),
    t_max: z.number().default(1).describe('upper end of t ~ U[t_min, t_max] (must be >= t_min)'),
    p: z.number().min(0).max(1).default(1).describe('probability that a batch is augmented (official: always)'),
  }),
  create: (o): FeatureAugmentation => new SlerpAugmentation(o.t_min, o.t_max, o.p),
});
