import { attention, attentionWithProbs, tf } from '@dfdet/core';
import { Layer, Module } from '../nn/module.js';
import { LayerNorm, Linear, linear, quickGelu, type InitFn } from '../nn/layers.js';
import type { ClipVisionConfig } from './config.js';
import { bicubicGridMatrix } from './interpolate.js';

export interface ClipVisionOutput {
  /** Encoder output [N, T, D] (no post-layernorm, as HF). */
  lastHiddenState: tf.Tensor3D;
  /** post_layernorm(CLS) [N, D]: the paper's feature. */
  poolerOutput: tf.Tensor2D;
  /** visual_projection(pooler_output) [N, P], unnormalized; absent without a projection. */
  imageEmbeds?: tf.Tensor2D;
  /** Embeddings after pre_layrnorm, then after each layer (when asked). */
  hiddenStates?: tf.Tensor3D[];
  /** Per layer [N, heads, T, T] (when asked). */
  attentions?: tf.Tensor4D[];
}

export interface ForwardOptions {
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

class Embeddings extends Module {
  readonly classEmbedding: tf.Variable;
  readonly patchEmbedding: PatchEmbedding;
  readonly positionEmbedding: PositionEmbedding;
  private interp = new Map<string, tf.Tensor2D>();

  constructor(private readonly cfg: ClipVisionConfig, init: InitFn) {
    super();
    const d = cfg.hidden_size;
    this.classEmbedding = this.param('class_embedding', init('class_embedding', [d]));
    this.patchEmbedding = this.module('patch_embedding', new PatchEmbedding(cfg, init));
    const grid = cfg.image_size / cfg.patch_size;
    this.positionEmbedding = this.module('position_embedding', new PositionEmbedding(grid * grid + 1, d, init));
  }

  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const [n, , h, w] = pixels.shape;
    const p = this.cfg.patch_size;
    if (h % p !== 0 || w % p !== 0) throw new Error(`pixel_values ${h}x${w} is not a multiple of the patch size ${p}`);
    const patches = this.patchEmbedding.embed(pixels); // [N, gh*gw, D]
    const d = this.cfg.hidden_size;
    const cls = tf.broadcastTo(this.classEmbedding.reshape([1, 1, d]), [n, 1, d]);
    const tokens = tf.concat([cls, patches], 1);
    return tf.add(tokens, this.positions(h / p, w / p)) as tf.Tensor3D;
  }

  /** Position embeddings for a gh×gw grid; other sizes than training get bicubic interpolation (HF). */
  private positions(gh: number, gw: number): tf.Tensor2D {
    const table = this.positionEmbedding.weight as tf.Tensor2D;
    const g = this.cfg.image_size / this.cfg.patch_size;
    if (gh === g && gw === g) return table;
    const key = `${gh}x${gw}`;
    let m = this.interp.get(key);
    if (!m) {
      m = tf.keep(tf.tensor2d(bicubicGridMatrix(g, g, gh, gw), [gh * gw, g * g]));
      this.interp.set(key, m);
    }
    const d = this.cfg.hidden_size;
    const cls = table.slice([0, 0], [1, d]);
    const grid = table.slice([1, 0], [g * g, d]);
    return tf.concat([cls, tf.matMul(m, grid)], 0) as tf.Tensor2D;
  }

  override dispose(): void {
    super.dispose();
    for (const t of this.interp.values()) t.dispose();
    this.interp.clear();
  }
}

/** Conv2d(stride = kernel = patch) as reshape + matMul: wasm has no Conv2DBackpropFilter. */
class PatchEmbedding extends Module {
  readonly weight: tf.Variable;

  constructor(private readonly cfg: ClipVisionConfig, init: InitFn) {
    super();
    const p = cfg.patch_size;
    this.weight = this.param('weight', init('patch_embedding.weight', [cfg.hidden_size, cfg.num_channels, p, p]));
  }

  embed(pixels: tf.Tensor4D): tf.Tensor3D {
    const [n, c, h, w] = pixels.shape;
    const p = this.cfg.patch_size;
    const gh = h / p;
    const gw = w / p;
    // [N,C,gh,p,gw,p] -> [N,gh,gw,C,p,p] in two rank<=5 transposes (wasm's transpose limit)
    const a = pixels.reshape([n * c * gh, p, gw, p]).transpose([0, 2, 1, 3]); // [N*C*gh, gw, p, p]
    const b = a.reshape([n, c, gh, gw, p * p]).transpose([0, 2, 3, 1, 4]); // [N, gh, gw, C, p*p]
    const flat = b.reshape([n * gh * gw, c * p * p]);
    const wFlat = this.weight.reshape([this.cfg.hidden_size, c * p * p]);
    return linear(flat, wFlat).reshape([n, gh * gw, this.cfg.hidden_size]);
  }
}

class PositionEmbedding extends Module {
  readonly weight: tf.Variable;
  constructor(count: number, dim: number, init: InitFn) {
    super();
    this.weight = this.param('weight', init('position_embedding.weight', [count, dim]));
  }
}

class Attention extends Module {
  private readonly heads: number;
  private readonly headDim: number;

  constructor(cfg: ClipVisionConfig, init: InitFn) {
    super();
    const d = cfg.hidden_size;
    this.heads = cfg.num_attention_heads;
    this.headDim = d / this.heads;
    for (const name of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) this.module(name, new Linear(d, d, { init }));
  }

  forward(x: tf.Tensor3D, keepProbs: boolean): { out: tf.Tensor3D; probs?: tf.Tensor4D } {
    const q = this.child<Layer>('q_proj').forward(x) as tf.Tensor3D;
    const k = this.child<Layer>('k_proj').forward(x) as tf.Tensor3D;
    const v = this.child<Layer>('v_proj').forward(x) as tf.Tensor3D;
    const scale = this.headDim ** -0.5;
    // the fused op (one native kernel on torch) unless the attention maps are wanted
    const { out: ctx, probs } = keepProbs ? attentionWithProbs(q, k, v, this.heads, scale) : { out: attention(q, k, v, this.heads, scale), probs: undefined };
    const out = this.child<Layer>('out_proj').forward(ctx) as tf.Tensor3D;
    return { out, probs };
  }
}

class Mlp extends Module {
  constructor(private readonly cfg: ClipVisionConfig, init: InitFn) {
    super();
    this.module('fc1', new Linear(cfg.hidden_size, cfg.intermediate_size, { init }));
    this.module('fc2', new Linear(cfg.intermediate_size, cfg.hidden_size, { init }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = this.child<Layer>('fc1').forward(x);
    const a = this.cfg.hidden_act === 'quick_gelu' ? quickGelu(h) : tf.mul(h, tf.mul(0.5, tf.add(1, tf.erf(tf.div(h, Math.SQRT2)))));
    return this.child<Layer>('fc2').forward(a);
  }
}

class EncoderLayer extends Module {
  constructor(cfg: ClipVisionConfig, init: InitFn) {
    super();
    this.module('self_attn', new Attention(cfg, init));
    this.module('layer_norm1', new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
    this.module('mlp', new Mlp(cfg, init));
    this.module('layer_norm2', new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
  }

  forward(h: tf.Tensor3D, keepProbs: boolean): { h: tf.Tensor3D; probs?: tf.Tensor4D } {
    const attn = this.child<Attention>('self_attn').forward(this.child<Layer>('layer_norm1').forward(h) as tf.Tensor3D, keepProbs);
    const h1 = tf.add(h, attn.out) as tf.Tensor3D;
    const m = this.child<Mlp>('mlp').forward(this.child<Layer>('layer_norm2').forward(h1));
    return { h: tf.add(h1, m) as tf.Tensor3D, probs: attn.probs };
  }
}

class Encoder extends Module {
  readonly layers: Module;
  constructor(cfg: ClipVisionConfig, init: InitFn) {
    super();
    this.layers = this.module('layers', new ModuleList());
    for (let i = 0; i < cfg.num_hidden_layers; i++) (this.layers as ModuleList).push(new EncoderLayer(cfg, init));
  }
}

export class ModuleList extends Module {
  private count = 0;
  push(m: Module): void {
    this.module(String(this.count++), m);
  }
  get length(): number {
    return this.count;
  }
  at<M extends Module>(i: number): M {
    return this.child<M>(String(i));
  }
}

class VisionTransformer extends Module {
  constructor(readonly cfg: ClipVisionConfig, init: InitFn) {
    super();
    this.module('embeddings', new Embeddings(cfg, init));
    this.module('pre_layrnorm', new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps)); // sic, HF's name
    this.module('encoder', new Encoder(cfg, init));
    this.module('post_layernorm', new LayerNorm(cfg.hidden_size, cfg.layer_norm_eps));
  }
}

/**
 * Hugging Face's CLIPVisionModelWithProjection in tfjs: the same parameter names
 * (`vision_model.…`, `visual_projection.weight`), the same math.
 */
export class ClipVisionModel extends Module {
  readonly config: ClipVisionConfig;

  constructor(config: ClipVisionConfig, init: InitFn = defaultInit(0)) {
    super();
    this.config = config;
    this.module('vision_model', new VisionTransformer(config, init));
    if (config.projection_dim > 0) {
      this.module('visual_projection', new Linear(config.hidden_size, config.projection_dim, { bias: false, init }));
    }
  }

  forward(pixels: tf.Tensor4D, opts: ForwardOptions = {}): ClipVisionOutput {
    const c = this.config;
    if (pixels.rank !== 4 || pixels.shape[1] !== c.num_channels) {
      throw new Error(`pixel_values: expected [N, ${c.num_channels}, H, W], got [${pixels.shape.join(', ')}]`);
    }
    const vm = this.child<Module>('vision_model');
    let h = vm.child<Embeddings>('embeddings').forward(pixels);
    h = vm.child<Layer>('pre_layrnorm').forward(h) as tf.Tensor3D;
    const hiddenStates = opts.outputHiddenStates ? [h] : undefined;
    const attentions: tf.Tensor4D[] | undefined = opts.outputAttentions ? [] : undefined;
    const layers = vm.child<Encoder>('encoder').layers as ModuleList;
    for (let i = 0; i < layers.length; i++) {
      const r = layers.at<EncoderLayer>(i).forward(h, Boolean(attentions));
      h = r.h;
      hiddenStates?.push(h);
      if (attentions && r.probs) attentions.push(r.probs);
    }
    const [n, , d] = h.shape;
    const cls = h.slice([0, 0, 0], [n, 1, d]).reshape([n, d]);
    const poolerOutput = vm.child<Layer>('post_layernorm').forward(cls) as tf.Tensor2D;
    const proj = c.projection_dim > 0 ? this.child<Layer>('visual_projection') : undefined;
    const imageEmbeds = proj ? (proj.forward(poolerOutput) as tf.Tensor2D) : undefined;
    return { lastHiddenState: h, poolerOutput, imageEmbeds, hiddenStates, attentions };
  }
}

/**
 * Seeded random initialization for training from scratch (tests, synthetic demos); real runs
 * load pretrained weights over it. LayerNorms start at 1/0 through their own constructor.
 */
export function defaultInit(seed: number): InitFn {
  let s = seed;
  return (name, shape) => {
    s += 1;
    if (name.endsWith('bias')) return tf.zeros(shape);
    const std = name.includes('embedding') && !name.includes('patch') ? shape[shape.length - 1]! ** -0.5 : 0.02;
    return tf.randomNormal(shape, 0, std, 'float32', s);
  };
}
