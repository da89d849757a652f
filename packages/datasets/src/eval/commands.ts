import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import {
  UserError,
  buildRegistry,
  composeConfig,
  loadDetector,
  selectEngine,
  validateConfig,
  writeJsonAtomic,
  KNOWN_ENGINES,
  type PluginInstanceConfig,
} from '@dfdet/core';
import { frameAndVideoMetrics } from '../metrics/deepfake.js';
import { evaluateDatasets } from './evaluate.js';
import { readPredictionsCsv } from './predictions-csv.js';

interface EvalArgs {
  checkpoint: string;
  datasets?: string[];
  config?: string[];
  set?: string[];
  split: string;
  output?: string;
  backend: string;
  device: string;
  'batch-size': number;
  workers: number;
  rule: string;
  'key-mapping'?: string;
  'skip-bad-files'?: boolean;
}

/** Datasets to evaluate: `data.test` of the extra config files (if any) else of the checkpoint's config, filtered by name. */
function pickDatasets(fromCheckpoint: PluginInstanceConfig[], extra: PluginInstanceConfig[] | undefined, names: string[] | undefined): PluginInstanceConfig[] {
  const pool = extra && extra.length ? extra : fromCheckpoint;
  if (pool.length === 0) throw new UserError('no datasets to evaluate: give --config <file> with data.test, or a checkpoint whose config lists data.test');
  if (!names?.length) return pool;
  const label = (c: PluginInstanceConfig) => [c.name, c.dataset, c.label].filter((x): x is string => typeof x === 'string');
  const picked = pool.filter((c) => label(c).some((l) => names.includes(l)));
  const unknown = names.filter((n) => !pool.some((c) => label(c).includes(n)));
  if (unknown.length) throw new UserError(`--datasets: ${unknown.join(', ')} not among the configured test datasets: ${pool.map((c) => label(c).join('/')).join(', ')}`);
  return picked;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'evaluate a checkpoint across datasets: predictions.csv per dataset, a metrics table and ROC curves',
  builder: (y) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'run folder, dfdet checkpoint, export, or the paper\'s .ckpt' })
      .option('datasets', { type: 'string', array: true, describe: 'only these datasets (plugin names or their dataset names)' })
      .option('config', { type: 'string', array: true, describe: 'YAML with data.test (dataset instances) to evaluate on' })
      .option('set', { type: 'string', array: true, describe: 'override keys of --config' })
      .option('split', { type: 'string', default: 'test', choices: ['train', 'val', 'test'] })
      .option('output', { type: 'string', describe: 'output folder (default: <run>/eval or beside the checkpoint)' })
      .option('backend', { type: 'string', default: 'auto', choices: ['auto', ...KNOWN_ENGINES] })
      .option('device', { type: 'string', default: 'cpu' })
      .option('batch-size', { type: 'number', default: 32 })
      .option('workers', { type: 'number', default: 2 })
      .option('rule', { type: 'string', default: 'argmax', choices: ['argmax', 'ge'], describe: 'decision rule for accuracy/F1' })
      .option('key-mapping', { type: 'string', describe: 'key-mapping preset for foreign checkpoints' })
      .option('skip-bad-files', { type: 'boolean', describe: 'skip unreadable images (counted) instead of failing' }),
  handler: async (args) => {
    let extra: PluginInstanceConfig[] | undefined;
    let plugins: string[] = [];
    let registry = await buildRegistry([]);
    if (args.config?.length) {
      const composed = composeConfig(args.config, { overrides: args.set ?? [] });
      plugins = (composed.data.plugins as string[] | undefined) ?? [];
      registry = await buildRegistry(plugins);
      composed.data.name ??= 'eval';
      const cfg = validateConfig(registry, composed) as unknown as { data: { test: PluginInstanceConfig[]; val: PluginInstanceConfig[] } };
      extra = args.split === 'val' ? cfg.data.val : cfg.data.test;
    }
    const engine = await selectEngine(registry, { backend: args.backend, device: args.device });
    console.error(`engine: ${engine.backend} on ${engine.device}`);
    const loaded = await loadDetector(registry, resolve(args.checkpoint), { keyMapping: args['key-mapping'] });
    try {
      const fromCk = (loaded.config?.data?.test ?? []) as PluginInstanceConfig[];
      const datasets = pickDatasets(fromCk, extra, args.datasets);
      const src = resolve(args.checkpoint);
      const outDir = resolve(args.output ?? (statSync(src).isDirectory() ? join(src, 'eval') : join(dirname(src), 'eval')));
      const result = await evaluateDatasets({
        registry,
        model: loaded.model,
        datasets,
        split: args.split as 'test',
        outDir,
        rule: args.rule as 'argmax',
        batchSize: args['batch-size'],
        workers: args.workers,
        onBadFile: args['skip-bad-files'] ? 'skip' : 'error',
        plugins: [...plugins, ...((loaded.config?.plugins as string[] | undefined) ?? [])],
        seed: 0,
        onDataset: (name, n, bad) => console.error(`${name}: ${n} frames${bad ? `, ${bad} unreadable skipped` : ''}`),
      });
      console.log(result.markdown);
      console.error(`wrote predictions, table.{md,csv}, results.json and roc.png to ${outDir}`);
    } finally {
      loaded.model.dispose();
    }
  },
};

interface MetricsArgs {
  predictions: string;
  output?: string;
  rule: string;
}

export const metricsCommand: CommandModule<object, MetricsArgs> = {
  command: 'metrics',
  describe: 'recompute frame- and video-level metrics from a predictions CSV (path, video, label, p_fake)',
  builder: (y) =>
    y
      .option('predictions', { type: 'string', demandOption: true, describe: 'CSV file' })
      .option('output', { type: 'string', describe: 'write the JSON here too' })
      .option('rule', { type: 'string', default: 'argmax', choices: ['argmax', 'ge'] }),
  handler: async (args) => {
    if (!existsSync(args.predictions)) throw new UserError(`predictions file not found: ${args.predictions}`);
    const rows = readPredictionsCsv(args.predictions);
    const m = frameAndVideoMetrics(rows.map((r) => ({ video: r.video, label: r.label, pFake: r.p_fake })), { rule: args.rule as 'argmax' });
    const out = { predictions: resolve(args.predictions), rule: args.rule, frame: m.frame, video: m.video };
    console.log(JSON.stringify(out, null, 2));
    if (args.output) writeJsonAtomic(resolve(args.output), out);
  },
};
