import { existsSync } from 'node:fs';
import { definePlugin, tf, z, type Backbone, type BackboneOutput, type ImagePreprocessing } from '@dfdet/core';
import { loadState } from '../nn/state.js';
import { clipProcessorDefaults, loadProcessorConfig, parseProcessorConfig, preprocessImages } from '../preprocess/clip-processor.js';
import { resolveWeights } from '../weights/resolve.js';
import { CLIP_PRESETS, inferClipVisionConfig, parseClipVisionConfig, readClipVisionConfig, type ClipVisionConfig } from './config.js';
import { CLIP_DEFAULT_SKIP } from '../io/key-mapping.js';
import { readWeights, type KeyMappingSpec } from './load-weights.js';
import { ClipVisionModel, defaultInit } from './vision-model.js';

/** A CLIP vision tower as the `backbone` plugin: HF names, pooler_output (or image_embeds) as feature. */
export class ClipBackbone implements Backbone {
  constructor(
    readonly model: ClipVisionModel,
    readonly preprocessing: ImagePreprocessing,
    readonly feature: 'pooler' | 'embeds',
  ) {
    if (feature === 'embeds' && model.config.projection_dim === 0) {
      throw new Error('feature "embeds" needs a visual projection, and this model has none');
    }
  }

  get featureDim(): number {
    return this.feature === 'embeds' ? this.model.config.projection_dim : this.model.config.hidden_size;
  }

  /** The module tree adapters wrap. */
  get root(): ClipVisionModel {
    return this.model;
  }

  namedParameters(): [string, tf.Variable][] {
    return this.model.namedParameters();
  }

  /** Options that rebuild this exact architecture and preprocessing without any file. */
  standaloneOptions(): Record<string, unknown> {
    return { architecture: { ...this.model.config }, preprocessing: { ...this.preprocessing } };
  }

  forward(pixels: tf.Tensor4D): BackboneOutput {
    const out = this.model.forward(pixels);
    const features = this.feature === 'embeds' ? out.imageEmbeds! : out.poolerOutput;
    return { features, embeds: out.imageEmbeds };
  }

  async loadImages(inputs: (string | Uint8Array)[]): Promise<tf.Tensor4D> {
    const { data, shape } = await preprocessImages(inputs.map((i) => (typeof i === 'string' ? i : Buffer.from(i))), this.preprocessing);
    return tf.tensor4d(data, shape);
  }

  dispose(): void {
    this.model.dispose();
  }
}

const keyMappingSchema = z.union([
  z.string().describe('a named preset, e.g. yermakov-2025'),
  z
    .object({
      strip_prefix: z.array(z.string()).optional(),
      replace: z.array(z.object({ from: z.string(), to: z.string() }).strict()).optional(),
      drop: z.array(z.string()).optional().describe('regexes of names to drop'),
      keep: z.array(z.string()).optional().describe('regexes of names to keep (others dropped)'),
    })
    .strict(),
]);

export const clipVitOptions = z.object({
  preset: z.enum(Object.keys(CLIP_PRESETS) as [string, ...string[]]).default('ViT-L/14').describe('architecture when no config.json is given'),
  weights: z
    .string()
    .optional()
    .describe('safetensors/PyTorch file, a folder (model.safetensors + config.json), or a hub id like openai/clip-vit-large-patch14; omitted: random init'),
  config: z.string().optional().describe('a HF config.json (CLIPVisionConfig or CLIPConfig); default: beside the weights, else the preset'),
  preprocessor: z.string().optional().describe('a HF preprocessor_config.json; default: beside the weights, else CLIP defaults at the model size'),
  key_mapping: keyMappingSchema.optional().describe('renames checkpoint keys to HF names (preset name or rules)'),
  feature: z.enum(['pooler', 'embeds']).default('pooler').describe('pooler: pooler_output (the paper); embeds: visual projection output'),
  weights_mode: z.enum(['strict', 'subset']).default('strict').describe('strict: every parameter must be in the file'),
  cache_dir: z.string().optional().describe('hub download cache (default ~/.cache/dfdet or $DFDET_CACHE)'),
  architecture: z.record(z.string(), z.unknown()).optional().describe('inline CLIPVisionConfig fields (exports carry their architecture this way)'),
  preprocessing: z.record(z.string(), z.unknown()).optional().describe('inline preprocessor_config fields'),
  infer_config: z.boolean().default(true).describe('without a config.json, read the architecture off the weights (else use preset)'),
});

export type ClipVitOptions = z.output<typeof clipVitOptions>;

export async function buildClipBackbone(opts: ClipVitOptions, seed: number): Promise<ClipBackbone> {
  const resolved = opts.weights ? await resolveWeights(opts.weights, { cacheDir: opts.cache_dir }) : undefined;
  const tensors = resolved ? await readWeights(resolved.weightsPath, resolved.format, opts.key_mapping as KeyMappingSpec) : undefined;
  const configPath = opts.config ?? resolved?.configPath;
  const config: ClipVisionConfig = opts.architecture
    ? parseClipVisionConfig(opts.architecture, 'model.backbone.architecture')
    : configPath
      ? readClipVisionConfig(configPath)
    : tensors && opts.infer_config
      ? inferClipVisionConfig(new Map([...tensors].map(([n, t]) => [n, t.shape])), resolved!.weightsPath)
        : stripHub(CLIP_PRESETS[opts.preset]!);
  const model = new ClipVisionModel(config, defaultInit(seed));
  try {
    if (tensors) {
      // a whole-detector checkpoint also holds the head (head.*), which the head plugin loads
      loadState(model, tensors, { source: resolved!.weightsPath, mode: opts.weights_mode, skip: [...CLIP_DEFAULT_SKIP, /^head\./] });
    }
    const preprocessorPath = opts.preprocessor ?? resolved?.preprocessorPath;
    const preprocessing = opts.preprocessing
      ? parseProcessorConfig(opts.preprocessing, 'model.backbone.preprocessing')
      : preprocessorPath && existsSync(preprocessorPath)
        ? loadProcessorConfig(preprocessorPath)
        : clipProcessorDefaults(config.image_size);
    return new ClipBackbone(model, preprocessing, opts.feature);
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function stripHub(p: ClipVisionConfig & { hub_id?: string }): ClipVisionConfig {
  const { hub_id: _h, ...rest } = p;
  return rest;
}

export const clipVitBackbone = definePlugin({
  kind: 'backbone',
  name: 'clip-vit',
  description: "CLIP ViT vision tower, exactly Hugging Face's CLIPVisionModelWithProjection (HF parameter names)",
  options: clipVitOptions,
  create: (opts, ctx) => buildClipBackbone(opts, ctx.seed),
});
