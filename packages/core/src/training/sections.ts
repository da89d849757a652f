import { z } from 'zod';
import { pluginSlot, registerSection } from '../config/experiment.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { PluginKind } from '../plugin/spec.js';

const slotOr = (r: PluginRegistry, kind: PluginKind) => pluginSlot(r, kind) ?? z.object({ name: z.string() }).passthrough();

registerSection({
  key: 'model',
  build: (r) =>
    z
      .object({
        backbone: slotOr(r, 'backbone').describe('the feature extractor, e.g. {name: clip-vit, preset: ViT-L/14, weights: openai/clip-vit-large-patch14}'),
        peft: slotOr(r, 'peft').prefault({ name: 'ln-tuning' }).describe('what trains in the backbone'),
        head: slotOr(r, 'head').prefault({ name: 'linear-norm' }),
        feature_augmentation: slotOr(r, 'augmentation').optional().describe('feature-space augmentation during training, e.g. {name: slerp}'),
        init_from: z
          .object({
            path: z.string().describe('a safetensors checkpoint (a run\'s checkpoints/*.safetensors or an export)'),
            include: z.array(z.string()).default(['.*']).describe('regexes of parameter names to load, e.g. ["^head\\\\."]'),
          })
          .strict()
          .optional()
          .describe('warm start: load a named subset of parameters before training'),
      })
      .strict()
      .optional(),
});

registerSection({
  key: 'loss',
  build: (r) => {
    const terms = Object.fromEntries(r.list('loss').map((s) => [s.name, s.options.strict().optional().describe(s.description)]));
    if (Object.keys(terms).length === 0) return undefined;
    return z
      .object(terms)
      .strict()
      .prefault({ ce: {} })
      .describe('loss terms by plugin name, each with its weight; the total is their weighted sum');
  },
});

registerSection({
  key: 'data',
  build: (r) => {
    const dataset = slotOr(r, 'dataset');
    const augmentation = slotOr(r, 'augmentation');
    return z
      .object({
        train: z.array(dataset).default([]),
        val: z.array(dataset).default([]),
        test: z.array(dataset).default([]),
        batch_size: z.number().int().positive().default(128).describe('samples per optimizer step'),
        micro_batch_size: z.number().int().positive().optional().describe('samples per forward pass; gradients accumulate up to batch_size'),
        eval_batch_size: z.number().int().positive().default(64),
        workers: z.number().int().min(0).default(2).describe('decoding worker threads (0: main thread)'),
        augmentations: z.array(augmentation).default([]).describe('image augmentations for training'),
        on_bad_file: z.enum(['error', 'skip']).default('error').describe('skip: skip unreadable images and count them in the summary'),
        balanced: z.boolean().default(false).describe('class-balanced sampling for training'),
      })
      .strict()
      .prefault({});
  },
});

registerSection({
  key: 'optim',
  build: () =>
    z
      .object({
        name: z.literal('adamw').default('adamw'),
        lr: z.number().positive().default(8e-5),
        betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.9, 0.999]),
        eps: z.number().positive().default(1e-8),
        weight_decay: z.number().min(0).default(0),
        no_decay: z.array(z.string()).default(['bias', 'norm']).describe('no weight decay for names containing these'),
        grad_clip: z.number().positive().optional().describe('clip the global gradient norm'),
      })
      .strict()
      .prefault({}),
});

registerSection({
  key: 'schedule',
  build: () =>
    z
      .object({
        name: z.enum(['cosine', 'constant', 'linear']).default('cosine'),
        min_lr: z.number().min(0).default(5e-5),
        warmup_steps: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({})
      .describe('learning rate per optimizer step'),
});

registerSection({
  key: 'trainer',
  build: () =>
    z
      .object({
        epochs: z.number().int().positive().default(10),
        max_steps: z.number().int().positive().optional().describe('stop after this many optimizer steps (overrides epochs)'),
        val_every_n_steps: z.number().int().positive().optional().describe('validate every N steps (default: each epoch)'),
        monitor: z.string().default('val/video/mAP').describe('metric that picks the best checkpoint'),
        mode: z.enum(['max', 'min']).default('max'),
        early_stopping_patience: z.number().int().positive().optional().describe('stop after N validations without improvement'),
        checkpoint_every_n_steps: z.number().int().positive().default(100).describe('how often the resumable last checkpoint is written'),
        log_every_n_steps: z.number().int().positive().default(1),
        decision_rule: z.enum(['argmax', 'ge']).default('argmax').describe("accuracy/F1 rule: argmax (official; p=0.5 is real) or ge"),
      })
      .strict()
      .prefault({}),
});
