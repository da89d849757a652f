import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import type { Backbone } from '../../contracts/model.js';
import { buildRegistry } from '../../config/load-experiment.js';
import { selectEngine, describeChoice, KNOWN_ENGINES } from '../../engine/select.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import * as tf from '../../tf.js';
import { UserError } from '../../util/errors.js';

interface Args {
  images?: string[];
  weights: string;
  backbone: string;
  preset?: string;
  'key-mapping'?: string;
  'pixel-values'?: string;
  backend: string;
  device: string;
  'batch-size': number;
  output: string;
  plugin?: string[];
}

export interface EmbedItem {
  input: string;
  pooler_output: number[];
  image_embeds?: number[];
  image_embeds_normalized?: number[];
}

export const embedCommand: CommandModule<object, Args> = {
  command: 'embed [images..]',
  describe: 'CLIP embeddings per image: pooler_output, image_embeds and their L2-normalized form, in input order',
  builder: (y) =>
    y
      .positional('images', { type: 'string', array: true, describe: 'image files (PNG, JPEG, WebP, …)' })
      .option('weights', { type: 'string', demandOption: true, describe: 'file, folder (model.safetensors + config.json) or hub id' })
      .option('backbone', { type: 'string', default: 'clip-vit', describe: 'backbone plugin' })
      .option('preset', { type: 'string', describe: 'architecture preset when the weights have no config.json (e.g. ViT-L/14)' })
      .option('key-mapping', { type: 'string', describe: 'key-mapping preset for checkpoints with other names (e.g. yermakov-2025)' })
      .option('pixel-values', { type: 'string', describe: 'a safetensors file with pixel_values [N,3,H,W] (float32), instead of images' })
      .option('backend', { type: 'string', default: 'auto', choices: ['auto', ...KNOWN_ENGINES], describe: 'engine backend' })
      .option('device', { type: 'string', default: 'cpu', describe: 'cpu or cuda:N' })
      .option('batch-size', { type: 'number', default: 8, describe: 'images per forward pass' })
      .option('output', { type: 'string', demandOption: true, describe: 'JSON file to write' })
      .option('plugin', { type: 'string', array: true, describe: 'extra plugin module' }),
  handler: async (args) => {
    const images = args.images ?? [];
    if (!args['pixel-values'] && images.length === 0) throw new UserError('give image files, or --pixel-values <file.safetensors>');
    if (args['pixel-values'] && images.length > 0) throw new UserError('give either image files or --pixel-values, not both');
    if (!(args['batch-size'] >= 1)) throw new UserError('--batch-size must be a positive integer');
    const registry = await buildRegistry(args.plugin ?? []);
    const choice = await selectEngine(registry, { backend: args.backend, device: args.device });
    console.error(describeChoice(choice));
    const options: Record<string, unknown> = { name: args.backbone, weights: args.weights, feature: 'pooler' };
    if (args.preset) options.preset = args.preset;
    if (args['key-mapping']) options.key_mapping = args['key-mapping'];
    const backbone = await registry.create<Backbone>('backbone', options as { name: string }, { seed: 0, registry });
    try {
      const items: EmbedItem[] = [];
      if (args['pixel-values']) {
        const file = args['pixel-values'];
        const pv = registry.service('tensorFiles').read(file, (n) => n === 'pixel_values').get('pixel_values');
        if (!pv) throw new UserError(`${file}: no tensor named "pixel_values"`);
        if (pv.shape.length !== 4) throw new UserError(`${file}: pixel_values must be [N, C, H, W], got [${pv.shape.join(', ')}]`);
        const [n, c, h, w] = pv.shape as [number, number, number, number];
        const per = c * h * w;
        for (let i = 0; i < n; i += args['batch-size']) {
          const m = Math.min(args['batch-size'], n - i);
          const px = tf.tensor4d(pv.data.subarray(i * per, (i + m) * per), [m, c, h, w]);
          items.push(...embedBatch(backbone, px, Array.from({ length: m }, (_, k) => `${file}#${i + k}`)));
        }
      } else {
        for (let i = 0; i < images.length; i += args['batch-size']) {
          const batch = images.slice(i, i + args['batch-size']);
          const px = await backbone.loadImages(batch);
          items.push(...embedBatch(backbone, px, batch));
        }
      }
      const out = resolve(args.output);
      writeJsonAtomic(out, { weights: args.weights, engine: { backend: choice.backend, device: choice.device }, items });
      console.error(`wrote ${items.length} embedding(s) to ${out}`);
    } finally {
      backbone.dispose();
    }
  },
};

function embedBatch(backbone: Backbone, px: tf.Tensor4D, names: string[]): EmbedItem[] {
  const [pooled, embeds, normed] = tf.tidy(() => {
    const out = backbone.forward(px);
    const e = out.embeds;
    const n = e ? tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12)) : undefined;
    return [out.features.arraySync(), e?.arraySync(), n?.arraySync() as number[][] | undefined];
  });
  px.dispose();
  return names.map((input, i) => ({
    input,
    pooler_output: pooled[i]!,
    ...(embeds ? { image_embeds: embeds[i]!, image_embeds_normalized: normed![i]! } : {}),
  }));
}
