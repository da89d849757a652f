import type * as tf from '../tf.js';
import type { ParameterTree } from './model.js';

/** A seeded random stream (data order, augmentation, slerp partners). Deterministic per seed. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** A random permutation of 0..n-1. */
  permutation(n: number): number[];
  /** Serializable state, for exact resume. */
  state(): unknown;
  restore(state: unknown): void;
}

/** Everything a loss term may look at for one batch. */
export interface LossInputs {
  /** Backbone features [N, D] after feature augmentation (what the head saw). */
  features: tf.Tensor2D;
  /** L2-normalized features [N, D]. */
  normalized: tf.Tensor2D;
  /** Head output [N, C]. */
  logits: tf.Tensor2D;
  /** Class ids [N] (0 real, 1 fake), int32. */
  labels: tf.Tensor1D;
}

/** The `loss` plugin kind: one weighted term; the trainer sums weight × value and logs each term. */
export interface LossTerm {
  /** Logged as `train/loss/<name>`. */
  readonly name: string;
  readonly weight: number;
  compute(inputs: LossInputs): tf.Scalar;
}

/** A `head` plugin: features → logits, with its own parameters (`head.*`). */
export interface Head extends ParameterTree {
  forward(features: tf.Tensor2D): tf.Tensor2D;
}

/**
 * Feature-space augmentation applied during training between backbone and head
 * (e.g. slerp between same-class features). Inference never calls it.
 */
export interface FeatureAugmentation {
  readonly stage: 'feature';
  readonly name: string;
  apply(features: tf.Tensor2D, labels: Int32Array, rng: Rng): tf.Tensor2D;
}

/**
 * The `peft` plugin kind: marks what trains in a backbone's module tree (and may wrap layers,
 * e.g. LoRA). `root` is the backbone's module tree (`backbone.root`).
 */
export interface PeftMethod {
  readonly name: string;
  apply(root: unknown): { trainable: string[]; summary: string };
  /** Folds adapters into base weights (LoRA); methods without adapters omit it. */
  merge?(root: unknown): string[];
}
