import { readFileSync } from 'node:fs';
import { UserError } from '@dfdet/core';

/** Hugging Face CLIPVisionConfig fields the vision tower uses. */
export interface ClipVisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  /** 0 when the checkpoint has no visual projection. */
  projection_dim: number;
  layer_norm_eps: number;
  hidden_act: 'quick_gelu' | 'gelu';
}

const base = { num_channels: 3, layer_norm_eps: 1e-5, hidden_act: 'quick_gelu' as const };

export const CLIP_PRESETS: Record<string, ClipVisionConfig & { hub_id: string }> = {
  'ViT-B/32': { ...base, hidden_size: 768, intermediate_size: 3072, num_attention_heads: 12, num_hidden_layers: 12, image_size: 224, patch_size: 32, projection_dim: 512, hub_id: 'openai/clip-vit-base-patch32' },
  'ViT-B/16': { ...base, hidden_size: 768, intermediate_size: 3072, num_attention_heads: 12, num_hidden_layers: 12, image_size: 224, patch_size: 16, projection_dim: 512, hub_id: 'openai/clip-vit-base-patch16' },
  'ViT-L/14': { ...base, hidden_size: 1024, intermediate_size: 4096, num_attention_heads: 16, num_hidden_layers: 24, image_size: 224, patch_size: 14, projection_dim: 768, hub_id: 'openai/clip-vit-large-patch14' },
  'ViT-L/14-336': { ...base, hidden_size: 1024, intermediate_size: 4096, num_attention_heads: 16, num_hidden_layers: 24, image_size: 336, patch_size: 14, projection_dim: 768, hub_id: 'openai/clip-vit-large-patch14-336' },
};

const POSITIVE_INT = ['hidden_size', 'intermediate_size', 'num_attention_heads', 'num_hidden_layers', 'image_size', 'patch_size', 'num_channels'] as const;

/**
 * Reads a CLIPVisionConfig from a HF config.json: a vision config, or a full CLIPConfig's
 * `vision_config` (whose `projection_dim` lives at the top level).
 */
export function parseClipVisionConfig(json: unknown, source: string): ClipVisionConfig {
  if (typeof json !== 'object' || json === null) throw new UserError(`${source}: expected a JSON object`);
  const top = json as Record<string, unknown>;
  const v = (typeof top.vision_config === 'object' && top.vision_config !== null ? top.vision_config : top) as Record<string, unknown>;
  const defaults = CLIP_PRESETS['ViT-B/32']!;
  const cfg: Record<string, unknown> = {};
  for (const key of POSITIVE_INT) {
    const value = v[key] ?? (key === 'num_channels' ? 3 : undefined) ?? (top.vision_config ? (defaults as unknown as Record<string, unknown>)[key] : undefined);
    if (!Number.isInteger(value) || (value as number) <= 0) {
      throw new UserError(`${source}: ${top.vision_config ? 'vision_config.' : ''}${key}: expected a positive integer, got ${JSON.stringify(value)}`);
    }
    cfg[key] = value;
  }
  const proj = v.projection_dim ?? top.projection_dim ?? 0;
  if (!Number.isInteger(proj) || (proj as number) < 0) throw new UserError(`${source}: projection_dim: expected a non-negative integer, got ${JSON.stringify(proj)}`);
  cfg.projection_dim = proj;
  const eps = v.layer_norm_eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new UserError(`${source}: layer_norm_eps: expected a positive number, got ${JSON.stringify(eps)}`);
  cfg.layer_norm_eps = eps;
  const act = v.hidden_act ?? 'quick_gelu';
  if (act !== 'quick_gelu' && act !== 'gelu') throw new UserError(`${source}: hidden_act: expected "quick_gelu" or "gelu", got ${JSON.stringify(act)}`);
  cfg.hidden_act = act;
  const c = cfg as unknown as ClipVisionConfig;
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new UserError(`${source}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  if (c.image_size % c.patch_size !== 0) throw new UserError(`${source}: image_size ${c.image_size} is not a multiple of patch_size ${c.patch_size}`);
  return c;
}

export function readClipVisionConfig(file: string): ClipVisionConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: cannot read model config (${(err as Error).message})`);
  }
  return parseClipVisionConfig(json, file);
}

/**
 * Reads the architecture off a state dict's shapes (HF names), for checkpoints that come without
 * a config.json (e.g. the paper's released Lightning checkpoint). Activation and eps are CLIP's.
 */
export function inferClipVisionConfig(shapes: ReadonlyMap<string, readonly number[]>, source: string): ClipVisionConfig {
  const get = (name: string) => {
    const s = shapes.get(name);
    if (!s) throw new UserError(`${source}: cannot infer the CLIP architecture: no tensor ${name} (give a config.json or model.backbone.config)`);
    return s;
  };
  const [hidden, channels, patch] = get('vision_model.embeddings.patch_embedding.weight') as [number, number, number];
  const [positions] = get('vision_model.embeddings.position_embedding.weight') as [number];
  const [intermediate] = get('vision_model.encoder.layers.0.mlp.fc1.weight') as [number];
  let layers = 0;
  while (shapes.has(`vision_model.encoder.layers.${layers}.mlp.fc1.weight`)) layers++;
  const grid = Math.round(Math.sqrt(positions - 1));
  if (grid * grid !== positions - 1) throw new UserError(`${source}: ${positions} position embeddings do not form a square grid plus CLS`);
  const proj = shapes.get('visual_projection.weight')?.[0] ?? 0;
  // every CLIP ViT uses 64-dimensional heads
  if (hidden % 64 !== 0) throw new UserError(`${source}: hidden size ${hidden} is not a multiple of 64; give a config.json`);
  return {
    hidden_size: hidden,
    intermediate_size: intermediate,
    num_attention_heads: hidden / 64,
    num_hidden_layers: layers,
    image_size: grid * patch,
    patch_size: patch,
    num_channels: channels,
    projection_dim: proj,
    layer_norm_eps: 1e-5,
    hidden_act: 'quick_gelu',
  };
}
