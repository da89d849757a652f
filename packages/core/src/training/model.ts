import type { Backbone } from '../contracts/model.js';
import type { FeatureAugmentation, Head, PeftMethod } from '../contracts/training.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { PluginInstanceConfig } from '../plugin/spec.js';
import * as tf from '../tf.js';
import { UserError } from '../util/errors.js';

export interface ModelConfig {
  backbone: PluginInstanceConfig;
  peft: PluginInstanceConfig;
  head: PluginInstanceConfig;
  feature_augmentation?: PluginInstanceConfig;
}

/** Backbone + PEFT + head: one model with one flat namespace of parameter names. */
export class DetectorModel {
  constructor(
    readonly backbone: Backbone,
    readonly head: Head,
    readonly peftSummary: string,
    readonly featureAugmentation?: FeatureAugmentation,
  ) {}

  /** HF names for the backbone, `head.*` for the head. */
  namedParameters(): [string, tf.Variable][] {
    return [...this.backbone.namedParameters(), ...this.head.namedParameters()];
  }

  /** Parameters the optimizer updates: those PEFT left trainable, and the head. */
  trainableParameters(): Map<string, tf.Variable> {
    return new Map(this.namedParameters().filter(([, v]) => v.trainable));
  }

  /** Training or evaluation mode for modules that care (LoRA dropout). */
  setTraining(training: boolean): void {
    for (const m of modulesOf(this.backbone)) if ('training' in m) (m as { training: boolean }).training = training;
  }

  /** p(fake) per image: softmax of the head's logits, class 1. */
  predictFake(pixels: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => {
      const logits = this.head.forward(this.backbone.forward(pixels).features);
      return tf.softmax(logits).slice([0, 1], [-1, 1]).reshape([-1]) as tf.Tensor1D;
    });
  }

  dispose(): void {
    this.backbone.dispose();
    this.head.dispose();
  }
}

/** Modules of a backbone's tree (`root.namedModules()`), for per-module state such as RNG streams. */
export function modulesOf(backbone: Backbone): object[] {
  const root = (backbone as { root?: { namedModules?: () => [string, object][] } }).root;
  return root?.namedModules ? root.namedModules().map(([, m]) => m) : [];
}

export function namedModulesOf(backbone: Backbone): [string, object][] {
  const root = (backbone as { root?: { namedModules?: () => [string, object][] } }).root;
  return root?.namedModules ? root.namedModules() : [];
}

export async function buildModel(registry: PluginRegistry, config: ModelConfig, seed: number): Promise<DetectorModel> {
  const ctx = { seed, registry };
  const backbone = await registry.create<Backbone>('backbone', config.backbone, ctx);
  try {
    const peft = await registry.create<PeftMethod>('peft', config.peft, ctx);
    const root = (backbone as { root?: unknown }).root;
    if (root === undefined) throw new UserError(`backbone "${config.backbone.name}" exposes no module tree for PEFT`);
    const applied = peft.apply(root);
    const head = await registry.create<Head>('head', config.head, { ...ctx, featureDim: backbone.featureDim });
    let aug: FeatureAugmentation | undefined;
    if (config.feature_augmentation) {
      aug = await registry.create<FeatureAugmentation>('augmentation', config.feature_augmentation, ctx);
      if (aug.stage !== 'feature') {
        throw new UserError(`model.feature_augmentation: "${config.feature_augmentation.name}" is an image augmentation; list it under data.augmentations`);
      }
    }
    return new DetectorModel(backbone, head, applied.summary, aug);
  } catch (err) {
    backbone.dispose();
    throw err;
  }
}
