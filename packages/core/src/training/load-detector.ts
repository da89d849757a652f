import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/experiment.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { UserError } from '../util/errors.js';
import { assignParams, readCheckpointMeta } from './checkpoint.js';
import { buildModel, type DetectorModel, type ModelConfig } from './model.js';
import type { TrainingConfig } from './training-config.js';

export interface LoadedDetector {
  model: DetectorModel;
  /** The config the checkpoint was trained with (absent for foreign checkpoints). */
  config?: ResolvedConfig & TrainingConfig;
  /** The file actually loaded. */
  path: string;
  kind: 'run' | 'export' | 'foreign';
}

export interface LoadDetectorOptions {
  /** For checkpoints not written by dfdet: key-mapping preset (default yermakov-2025 for .ckpt). */
  keyMapping?: string;
  seed?: number;
}

/** A run folder's best checkpoint, else its last one. */
export function runCheckpoint(dir: string): string {
  for (const name of ['best.safetensors', 'last.safetensors']) {
    const p = join(dir, 'checkpoints', name);
    if (existsSync(p)) return p;
  }
  throw new UserError(`${dir} has no checkpoints/best.safetensors or last.safetensors`);
}

/**
 * Builds a detector from a run folder, a dfdet checkpoint (trainable parameters + the config that
 * rebuilds the rest), a standalone export, or a foreign checkpoint such as the paper's released
 * Lightning `.ckpt` (CLIP architecture read off the weights, keys renamed by a mapping preset).
 */
export async function loadDetector(registry: PluginRegistry, source: string, opts: LoadDetectorOptions = {}): Promise<LoadedDetector> {
  if (!existsSync(source)) throw new UserError(`checkpoint not found: ${source}`);
  const path = statSync(source).isDirectory() ? runCheckpoint(source) : source;
  const files = registry.service('tensorFiles');
  const meta = /\.safetensors$/i.test(path) ? readCheckpointMeta(files, path) : undefined;
  const seed = opts.seed ?? 0;
  if (meta) {
    const config = meta.config as ResolvedConfig & TrainingConfig;
    // the run's own plugin modules (third-party datasets, heads, …) are needed to rebuild it
    await registry.loadPlugins(config.plugins ?? []);
    if (!config?.model) throw new UserError(`${path}: its metadata holds no model config`);
    const standalone = meta.kind === 'export';
    const modelCfg: ModelConfig = standalone
      ? { ...config.model, backbone: { ...config.model.backbone, weights: path, key_mapping: undefined } }
      : config.model;
    const model = await buildModel(registry, { ...modelCfg, feature_augmentation: undefined }, seed);
    try {
      const tensors = files.read(path, (n) => !n.startsWith('optimizer.'));
      assignParams(new Map(model.namedParameters()), tensors, path);
      model.setTraining(false);
      return { model, config, path, kind: standalone ? 'export' : 'run' };
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  const keyMapping = opts.keyMapping ?? (/\.(ckpt|pt|pth|bin)$/i.test(path) ? 'yermakov-2025' : undefined);
  const model = await buildModel(
    registry,
    {
      backbone: { name: 'clip-vit', weights: path, infer_config: true, ...(keyMapping ? { key_mapping: keyMapping } : {}) },
      peft: { name: 'linear-probe' },
      head: { name: 'linear-norm' },
    },
    seed,
  );
  try {
    const head = new Map([...(await files.readWeights(path, keyMapping))].filter(([n]) => n.startsWith('head.')));
    if (head.size === 0) throw new UserError(`${path}: no head.* tensors after key mapping${keyMapping ? ` "${keyMapping}"` : ''}; is this a detector checkpoint?`);
    assignParams(new Map(model.head.namedParameters()), head, path);
    model.setTraining(false);
    return { model, path, kind: 'foreign' };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
