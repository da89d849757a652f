import { definePlugin, tf, z, type Head } from '@dfdet/core';
import { Module } from '../nn/module.js';
import { Linear, linear } from '../nn/layers.js';

/**
 * torch.nn.Linear's default init (kaiming_uniform with a = √5): weight and bias ~ U(−1/√in, 1/√in).
 * Seeded, so a run's head starts the same every time.
 */
function torchLinearInit(inFeatures: number, seed: number) {
  const bound = 1 / Math.sqrt(inFeatures);
  let s = seed;
  return (_name: string, shape: number[]) => tf.randomUniform(shape, -bound, bound, 'float32', ++s);
}

function l2normalize(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), eps)) as tf.Tensor2D);
}

/** Parameters live under `head.` (`head.weight` [C, D], `head.bias` [C]). */
abstract class HeadModule extends Module implements Head {
  abstract forward(features: tf.Tensor2D): tf.Tensor2D;
}

/** Linear(D, C) with bias on the feature, or, for the paper's head, on the L2-normalized feature. */
export class LinearHead extends HeadModule {
  readonly head: Linear;
  constructor(
    dim: number,
    classes: number,
    seed: number,
    readonly normalize = false,
  ) {
    super();
    this.head = this.module('head', new Linear(dim, classes, { init: torchLinearInit(dim, seed) }));
  }
  forward(features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.head.forward(this.normalize ? l2normalize(features) : features) as tf.Tensor2D);
  }
}

/** Cosine classifier: scale · cos(feature, class weight), no bias. */
export class CosineHead extends HeadModule {
  readonly head: Linear;
  constructor(
    dim: number,
    classes: number,
    seed: number,
    readonly scale: number,
  ) {
    super();
    this.head = this.module('head', new Linear(dim, classes, { bias: false, init: torchLinearInit(dim, seed) }));
  }
  forward(features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.mul(linear(l2normalize(features), l2normalize(this.head.weight as unknown as tf.Tensor2D)), this.scale) as tf.Tensor2D);
  }
}

const common = {
  num_classes: z.number().int().min(2).default(2).describe('output classes (0 real, 1 fake)'),
};

function featureDim(ctx: { featureDim?: unknown }): number {
  const d = ctx.featureDim;
  if (typeof d !== 'number' || !(d > 0)) throw new Error('a head needs the backbone feature size (ctx.featureDim)');
  return d;
}

export const linearNormHead = definePlugin({
  kind: 'head',
  name: 'linear-norm',
  description: "the paper's head: L2-normalize the feature, then Linear(D, classes) with bias (head.weight, head.bias)",
  options: z.object(common),
  create: (o, ctx) => new LinearHead(featureDim(ctx as { featureDim?: unknown }), o.num_classes, ctx.seed, true),
});

export const linearHead = definePlugin({
  kind: 'head',
  name: 'linear',
  description: 'Linear(D, classes) on the unnormalized feature',
  options: z.object(common),
  create: (o, ctx) => new LinearHead(featureDim(ctx as { featureDim?: unknown }), o.num_classes, ctx.seed),
});

export const cosineHead = definePlugin({
  kind: 'head',
  name: 'cosine',
  description: 'scale × cosine similarity between the feature and each class weight (no bias)',
  options: z.object({ ...common, scale: z.number().positive().default(16).describe('logit scale s') }),
  create: (o, ctx) => new CosineHead(featureDim(ctx as { featureDim?: unknown }), o.num_classes, ctx.seed, o.scale),
});

export const headPlugins = [linearNormHead, linearHead, cosineHead];
