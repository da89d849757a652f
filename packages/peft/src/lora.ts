import { definePlugin, didYouMean, SeededRng, tf, UserError, z } from '@dfdet/core';
import { Layer, Linear, linear, type Module } from '@dfdet/models';
import { markTrainable, type PeftMethod, type PeftResult } from './types.js';

export type LoraInit = 'kaiming' | 'gaussian';

export interface LoraOptions {
  rank: number;
  alpha: number;
  dropout: number;
  /** false: scaling = alpha / rank (PEFT's default); true: alpha / √rank (rsLoRA). */
  rslora: boolean;
  /** kaiming: A ~ kaiming-uniform(a = √5) = U(±1/√in), B = 0 (PEFT's default); gaussian: A ~ N(0, 1/rank), B = 0. */
  init: LoraInit;
  /** Seeds A's init and the dropout stream (each layer derives its own from its path). */
  seed: number;
  /** The layer's path, so each wrapped layer gets its own random streams. */
  path?: string;
}

/**
 * LoRA around a Linear: out = base(x) + scaling · dropout(x) Aᵀ Bᵀ, with A [r, in] and B [out, r].
 *
 * It takes over the base layer's parameters under their own names (`weight`, `bias`) and adds
 * `lora_A`, `lora_B`, so a wrapped `…out_proj` has `…out_proj.weight`, `…out_proj.bias`,
 * `…out_proj.lora_A`, `…out_proj.lora_B`: the base keeps its Hugging Face names in a state dict.
 * The base `Linear` passed in must not be used afterwards (its variables move here; the data is
 * shared, not copied).
 *
 * Dropout acts only while `training` is true (see `setTraining`), with a seeded mask stream.
 */
export class LoraLinear extends Layer {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly loraA: tf.Variable;
  readonly loraB: tf.Variable;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly rank: number;
  readonly scaling: number;
  readonly dropout: number;
  /** Set by the trainer through `setTraining`; dropout is applied only when true. */
  training = false;
  private readonly dropoutRng: SeededRng;

  constructor(base: Linear, opts: LoraOptions) {
    super();
    const { rank, alpha, dropout } = opts;
    if (!Number.isInteger(rank) || rank < 1) throw new Error(`LoRA rank must be a positive integer, got ${rank}`);
    if (!(dropout >= 0 && dropout < 1)) throw new Error(`LoRA dropout must be in [0, 1), got ${dropout}`);
    this.inFeatures = base.inFeatures;
    this.outFeatures = base.outFeatures;
    this.rank = rank;
    this.scaling = opts.rslora ? alpha / Math.sqrt(rank) : alpha / rank;
    this.dropout = dropout;
    const path = opts.path ?? '';
    this.dropoutRng = SeededRng.derive(opts.seed, `lora-dropout:${path}`);
    // `param` makes a variable on the same data and disposes the old one: a move, not a copy
    this.weight = this.param('weight', base.weight, base.weight.trainable);
    if (base.bias) this.bias = this.param('bias', base.bias, base.bias.trainable);
    const initSeed = SeededRng.derive(opts.seed, `lora-init:${path}`).u32();
    const a =
      opts.init === 'gaussian'
        ? tf.randomNormal([rank, this.inFeatures], 0, 1 / rank, 'float32', initSeed)
        : tf.randomUniform([rank, this.inFeatures], -1 / Math.sqrt(this.inFeatures), 1 / Math.sqrt(this.inFeatures), 'float32', initSeed);
    this.loraA = this.param('lora_A', a);
    this.loraB = this.param('lora_B', tf.zeros([this.outFeatures, rank]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = linear(x, this.weight, this.bias);
      const xd = this.training && this.dropout > 0 ? tf.dropout(x, this.dropout, undefined, this.dropoutRng.u32()) : x;
      const delta = linear(linear(xd, this.loraA), this.loraB);
      return tf.add(y, tf.mul(delta, this.scaling));
    });
  }

  /** The dropout stream's state (for exact resume). */
  rngState(): unknown {
    return this.dropoutRng.state();
  }

  restoreRng(state: unknown): void {
    this.dropoutRng.restore(state);
  }

  /**
   * A plain Linear with W + scaling · B A folded in (the bias moves over as is). This layer's
   * variables are disposed: do not use it afterwards.
   */
  merge(): Linear {
    const weight = tf.tidy(() => tf.add(this.weight, tf.mul(tf.matMul(this.loraB, this.loraA), this.scaling)));
    const weightTrainable = this.weight.trainable;
    const bias = this.bias;
    const merged = new Linear(this.inFeatures, this.outFeatures, {
      bias: Boolean(bias),
      init: (name) => (name === 'weight' ? weight : bias!),
    });
    merged.weight.trainable = weightTrainable;
    if (merged.bias && bias) merged.bias.trainable = bias.trainable;
    for (const v of [this.weight, this.loraA, this.loraB]) v.dispose();
    return merged;
  }
}

/**
 * Folds every LoraLinear under `root` into a plain Linear (for `exp export --merge-lora`):
 * the forward is unchanged up to float rounding and the state dict is the base model's again.
 * Returns the merged module paths.
 */
export function mergeLora(root: Module): string[] {
  const targets = root.namedModules().filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);
  for (const [path, m] of targets) root.replaceModule(path, m.merge());
  return targets.map(([p]) => p);
}

/** `['q_proj,v_proj', 'out_proj']` → `['q_proj', 'v_proj', 'out_proj']`. */
export function parseTargetModules(spec: string | readonly string[]): string[] {
  const list = typeof spec === 'string' ? [spec] : spec;
  return list.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** PEFT's rule for a list: a module matches when its path is the target or ends with `.target`. */
function matchesTarget(path: string, target: string): boolean {
  return path === target || path.endsWith(`.${target}`);
}

export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  /** Last path segment(s) (or dotted suffixes) of the Linear layers to wrap; comma lists are split. */
  targetModules: string[];
  rslora: boolean;
  init: LoraInit;
  seed: number;
}

/** LoRA: wraps the target Linear layers in LoraLinear; only `lora_A`/`lora_B` train. */
export class Lora implements PeftMethod {
  readonly name = 'lora';
  readonly config: LoraConfig;
  constructor(config: LoraConfig) {
    this.config = { ...config, targetModules: parseTargetModules(config.targetModules) };
    if (this.config.targetModules.length === 0) throw new UserError('lora: target_modules is empty');
  }

  get scaling(): number {
    const { alpha, rank, rslora } = this.config;
    return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  /** Folds the adapters into the base weights (for standalone exports); returns the merged module paths. */
  merge(root: Module): string[] {
    return mergeLora(root);
  }

  apply(root: Module): PeftResult {
    const c = this.config;
    const modules = root.namedModules();
    const matched = modules.filter(([path]) => c.targetModules.some((t) => matchesTarget(path, t)));
    if (matched.length === 0) {
      const segments = [...new Set(modules.map(([p]) => p.slice(p.lastIndexOf('.') + 1)).filter((s) => !/^\d+$/.test(s)))];
      const hints = c.targetModules.map((t) => didYouMean(t, segments)).filter((s): s is string => Boolean(s));
      throw new UserError(
        `lora: target_modules [${c.targetModules.join(', ')}] match no module` +
          (hints.length ? ` (did you mean ${hints.join(', ')}?)` : ` (module names: ${segments.join(', ')})`),
      );
    }
    // check every target before wrapping any, so a bad target leaves the model untouched
    for (const [path, m] of matched) {
      if (!(m instanceof Linear) && !(m instanceof LoraLinear)) {
        throw new UserError(`lora: "${path}" is a ${m.constructor.name}, but LoRA wraps only Linear layers`);
      }
    }
    for (const [path, m] of matched) {
      if (m instanceof Linear) root.replaceModule(path, new LoraLinear(m, { ...c, path })); // a LoraLinear stays (applied twice)
    }
    return markTrainable(this.name, root, (n) => n.endsWith('.lora_A') || n.endsWith('.lora_B'));
  }
}

export const loraOptions = z.object({
  rank: z.number().int().min(1).default(1).describe('LoRA rank r'),
  alpha: z.number().positive().default(32).describe('LoRA alpha (scaling = alpha / r, or alpha / √r with rslora)'),
  dropout: z.number().min(0).lt(1).default(0.1).describe('dropout on the LoRA branch input (training only)'),
  target_modules: z
    .union([z.string(), z.array(z.string())])
    .default(['out_proj'])
    .describe("Linear layers to wrap, by last path segment(s); comma lists allowed, e.g. 'q_proj,v_proj'"),
  rslora: z.boolean().default(false).describe('rank-stabilized scaling alpha / √r'),
  init: z.enum(['kaiming', 'gaussian']).default('kaiming').describe('A init (B is zero): kaiming-uniform(a=√5) like PEFT, or N(0, 1/r)'),
});

export const loraPlugin = definePlugin({
  kind: 'peft',
  name: 'lora',
  description: 'LoRA on Linear layers (default: attention out_proj); only lora_A / lora_B train',
  options: loraOptions,
  create: (o, ctx) =>
    new Lora({
      rank: o.rank,
      alpha: o.alpha,
      dropout: o.dropout,
      targetModules: parseTargetModules(o.target_modules),
      rslora: o.rslora,
      init: o.init,
      seed: ctx.seed,
    }),
});
