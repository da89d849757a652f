import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import type { PeftMethod } from '../../contracts/training.js';
import { buildRegistry } from '../../config/load-experiment.js';
import { selectEngine } from '../../engine/select.js';
import { saveCheckpoint, snapshot, type CheckpointMeta } from '../../training/checkpoint.js';
import { loadDetector } from '../../training/load-detector.js';
import { UserError } from '../../util/errors.js';

interface Args {
  checkpoint: string;
  output: string;
  'merge-lora'?: boolean;
  'key-mapping'?: string;
}

export const exportCommand: CommandModule<object, Args> = {
  command: 'export',
  describe: 'write a standalone model (every parameter, no pretrained weights needed to load it)',
  builder: (y) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'run folder or checkpoint file' })
      .option('output', { type: 'string', demandOption: true, describe: 'safetensors file to write' })
      .option('merge-lora', { type: 'boolean', describe: 'fold LoRA adapters into the base weights' })
      .option('key-mapping', { type: 'string', describe: 'key-mapping preset for foreign checkpoints' }),
  handler: async (args) => {
    const registry = await buildRegistry([]);
    await selectEngine(registry, { backend: 'auto', device: 'cpu' });
    const loaded = await loadDetector(registry, args.checkpoint, { keyMapping: args['key-mapping'] });
    try {
      const modelCfg = loaded.config?.model ?? { backbone: { name: 'clip-vit' }, peft: { name: 'linear-probe' }, head: { name: 'linear-norm' } };
      let peft = modelCfg.peft;
      if (args['merge-lora']) {
        const method = await registry.create<PeftMethod>('peft', peft, { seed: 0, registry });
        if (!method.merge) throw new UserError(`--merge-lora: the checkpoint's PEFT method "${peft.name}" has no adapters to merge`);
        const merged = method.merge((loaded.model.backbone as { root?: unknown }).root);
        console.error(`merged ${merged.length} LoRA module(s)`);
        peft = { name: 'linear-probe' };
      }
      const { weights: _w, key_mapping: _k, config: _c, preprocessor: _p, ...rest } = modelCfg.backbone as Record<string, unknown>;
      const backbone = { ...rest, ...loaded.model.backbone.standaloneOptions?.() } as typeof modelCfg.backbone;
      const meta: CheckpointMeta = {
        format: 'dfdet-checkpoint/1',
        kind: 'export',
        step: 0,
        epoch: 0,
        next_batch: 0,
        metrics: {},
        trainer: { source: loaded.path },
        config: { ...(loaded.config ?? {}), model: { ...modelCfg, backbone, peft, init_from: undefined } },
      };
      const out = resolve(args.output);
      saveCheckpoint(registry.service('tensorFiles'), out, { params: snapshot(new Map(loaded.model.namedParameters())), meta });
      console.error(`wrote ${out}`);
    } finally {
      loaded.model.dispose();
    }
  },
};
