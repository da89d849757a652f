import { dataPrepareCommand } from '../prepare/command.js';
import { resolve } from 'node:path';
import {
  PluginRegistry,
  UserError,
  importPluginModule,
  parseOverride,
  pluginModule,
  setPath,
  type PluginInstanceConfig,
  type Split,
  type packageModule,
} from '@dfdet/core';
import { SPLITS, type IndexReport, type ReportingAdapter } from '../adapters/common.js';
import { datasetPlugins } from '../adapters/index.js';
import { stats, writeListFiles, type IndexStats } from '../adapters/index-writer.js';
import { generateSynthetic } from '../synth/generate.js';
import { SYNTH_METHODS, type SynthMethod } from '../synth/render.js';

/** yargs' CommandModule, as core's `packageModule` takes it (this package does not depend on yargs itself). */
export type CommandModule = NonNullable<Parameters<typeof packageModule>[0]['commands']>[number];

const err = (s: string) => process.stderr.write(`${s}\n`);
const out = (s: string) => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------- data synth

export interface SynthArgs {
  out: string;
  videos: number;
  frames: number;
  size: number;
  seed: number;
  methods?: string[];
}

export async function synthHandler(args: SynthArgs): Promise<void> {
  const methods = args.methods ?? [...SYNTH_METHODS];
  for (const m of methods) {
    if (!SYNTH_METHODS.includes(m as SynthMethod)) throw new UserError(`--methods: unknown method "${m}"; methods: ${SYNTH_METHODS.join(', ')}`);
  }
  const dir = resolve(args.out);
  err(`synth: ${args.videos} videos × ${args.frames} frames × ${methods.length + 1} sources, ${args.size}px, seed ${args.seed} → ${dir}`);
  let lastPct = -1;
  const t0 = Date.now();
  const manifest = await generateSynthetic({
    out: dir,
    videos_per_method: args.videos,
    frames_per_video: args.frames,
    size: args.size,
    seed: args.seed,
    methods: methods as SynthMethod[],
    onProgress: (done, total) => {
      const pct = Math.floor((done / total) * 10) * 10;
      if (pct !== lastPct && (pct % 20 === 0 || done === total)) {
        lastPct = pct;
        err(`synth: ${done}/${total} frames (${pct}%)`);
      }
    },
  });
  const n = manifest.videos.reduce((s, v) => s + v.frames.length, 0);
  err(`synth: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  out(`wrote ${n} frames of ${manifest.videos.length} videos (${manifest.sources.join(', ')}) and manifest.json to ${dir}`);
}

export const synthCommand: CommandModule = {
  command: 'synth',
  describe: 'write the procedural synthetic deepfake set (<out>/<source>/<video>/<frame>.png + manifest.json)',
  builder: (y: any) =>
    y
      .option('out', { type: 'string', default: 'datasets/synthetic', describe: 'output folder' })
      .option('videos', { type: 'number', default: 8, describe: 'videos per source (= identities)' })
      .option('frames', { type: 'number', default: 8, describe: 'frames per video' })
      .option('size', { type: 'number', default: 64, describe: 'image side in pixels' })
      .option('seed', { type: 'number', default: 0, describe: 'seed (same seed, same bytes)' })
      .option('methods', { type: 'string', array: true, describe: `fake methods (default all: ${SYNTH_METHODS.join(', ')})` }),
  handler: (args: any) => synthHandler(args as SynthArgs),
};

// ---------------------------------------------------------------------------------------------- shared

export interface CorpusArgs {
  corpus: string;
  root?: string;
  set?: string[];
  plugin?: string[];
  splits?: string[];
}

/** Builds the named dataset adapter with `--root` and `--set key=value` options. */
export async function buildAdapter(args: CorpusArgs): Promise<ReportingAdapter> {
  const registry = new PluginRegistry([pluginModule(...datasetPlugins)]);
  for (const p of args.plugin ?? []) registry.load(await importPluginModule(p));
  const config: PluginInstanceConfig = { name: args.corpus };
  if (args.root !== undefined) config.root = args.root;
  for (const raw of args.set ?? []) {
    const o = parseOverride(raw);
    if (o.path[0] === 'name') throw new UserError(`--set ${raw}: the dataset is the positional argument, not an option`);
    setPath(config as Record<string, unknown>, o.path, o.value, `--set ${raw}`);
  }
  const adapter = await registry.create<ReportingAdapter>('dataset', config, { seed: 0, registry });
  if (typeof adapter?.index !== 'function') throw new UserError(`dataset "${args.corpus}" did not create a dataset adapter`);
  return adapter;
}

function parseSplits(list: string[] | undefined): Split[] {
  const items = (list ?? [...SPLITS]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const s of items) if (!SPLITS.includes(s as Split)) throw new UserError(`--splits: "${s}" is not one of ${SPLITS.join(', ')}`);
  return [...new Set(items)] as Split[];
}

async function indexSplit(adapter: ReportingAdapter, corpus: string, split: Split): Promise<{ records: Awaited<ReturnType<ReportingAdapter['index']>>; report?: IndexReport }> {
  err(`${corpus}: indexing ${split} …`);
  if (typeof adapter.indexWithReport === 'function') return adapter.indexWithReport(split);
  return { records: await adapter.index(split) };
}

function reportNotes(corpus: string, report: IndexReport | undefined): void {
  if (!report) return;
  for (const n of report.notes) err(`${corpus} ${report.split}: ${n}`);
  for (const m of report.missing_examples.slice(0, 3)) err(`${corpus} ${report.split}: missing ${m}`);
}

function countsLine(split: string, s: IndexStats): string {
  return `${split.padEnd(5)}  ${String(s.frames).padStart(8)} frames  ${String(s.videos).padStart(6)} videos  real ${s.by_label.real.frames}/${s.by_label.real.videos}  fake ${s.by_label.fake.frames}/${s.by_label.fake.videos} (frames/videos)`;
}

const corpusOptions = (y: any) =>
  y
    .positional('corpus', { type: 'string', demandOption: true, describe: 'dataset plugin (ffpp, celeb-df-v2, folder, file-list, synthetic, …)' })
    .option('root', { type: 'string', describe: "the corpus's frame folder (the plugin's root option)" })
    .option('set', { type: 'string', array: true, describe: 'another plugin option: --set compression=c40 --set split_dir=splits' })
    .option('splits', { type: 'string', array: true, describe: 'splits to process (default train val test)' })
    .option('plugin', { type: 'string', array: true, describe: 'extra plugin module providing the dataset' });

// ---------------------------------------------------------------------------------------------- data index

export interface IndexArgs extends CorpusArgs {
  out: string;
  name?: string;
  absolute?: boolean;
  'per-source'?: boolean;
}

export async function indexHandler(args: IndexArgs): Promise<Record<string, IndexStats>> {
  const adapter = await buildAdapter(args);
  const name = args.name ?? adapter.name;
  const result: Record<string, IndexStats> = {};
  const lists: Record<string, unknown> = {};
  let mismatches = 0;
  for (const split of parseSplits(args.splits)) {
    const { records, report } = await indexSplit(adapter, args.corpus, split);
    reportNotes(args.corpus, report);
    const written = writeListFiles({
      out: args.out,
      dataset: name,
      split,
      records,
      relative_to: args.absolute ? undefined : process.cwd(),
      per_source: args['per-source'] ?? true,
    });
    mismatches += written.rule_mismatches;
    for (const f of written.files) err(`${args.corpus}: wrote ${f}`);
    if (written.lists.length) lists[split] = written.lists;
    result[split] = stats(records);
    out(countsLine(split, result[split]!));
  }
  if (mismatches > 0) {
    err(`${args.corpus}: ${mismatches} frames would get another label or source from their folder names alone; use the per-source lists with the label/source below`);
  }
  out(`file-list config: ${JSON.stringify({ name: 'file-list', dataset: name, lists })}`);
  return result;
}

export const indexCommand: CommandModule = {
  command: 'index <corpus>',
  describe: "write the corpus's list files (<out>/<dataset>/<split>.txt and <split>/<source>.txt) and print counts",
  builder: (y: any) =>
    corpusOptions(y)
      .option('out', { type: 'string', default: 'config/datasets', describe: 'folder of the list files' })
      .option('name', { type: 'string', describe: "folder name under --out (default the dataset's name)" })
      .option('absolute', { type: 'boolean', describe: 'write absolute paths (default: relative to the cwd when inside it)' })
      .option('per-source', { type: 'boolean', default: true, describe: 'also write one list per source' }),
  handler: (args: any) => indexHandler(args as IndexArgs).then(() => undefined),
};

// ---------------------------------------------------------------------------------------------- data stats

export interface StatsArgs extends CorpusArgs {
  json?: boolean;
}

export async function statsHandler(args: StatsArgs): Promise<Record<string, IndexStats>> {
  const adapter = await buildAdapter(args);
  const result: Record<string, IndexStats> = {};
  for (const split of parseSplits(args.splits)) {
    const { records, report } = await indexSplit(adapter, args.corpus, split);
    reportNotes(args.corpus, report);
    result[split] = stats(records);
  }
  if (args.json) {
    out(JSON.stringify(result, null, 2));
    return result;
  }
  out(`${adapter.name}`);
  for (const [split, s] of Object.entries(result)) {
    out(countsLine(split, s));
    for (const [source, c] of Object.entries(s.by_source)) {
      out(`         ${source.padEnd(24)} ${c.label === 0 ? 'real' : 'fake'}  ${String(c.frames).padStart(8)} frames  ${String(c.videos).padStart(6)} videos`);
    }
  }
  return result;
}

export const statsCommand: CommandModule = {
  command: 'stats <corpus>',
  describe: 'print frame/video counts per split, label and source',
  builder: (y: any) => corpusOptions(y).option('json', { type: 'boolean', describe: 'print JSON' }),
  handler: (args: any) => statsHandler(args as StatsArgs).then(() => undefined),
};

// ---------------------------------------------------------------------------------------------- data

export const dataCommand: CommandModule = {
  command: 'data <command>',
  describe: 'datasets: face crops from videos, synthetic set, list files, counts (data prepare | synth | index <corpus> | stats <corpus>)',
  builder: (y: any) =>
    y
      .command(dataPrepareCommand)
      .command(synthCommand)
      .command(indexCommand)
      .command(statsCommand)
      .demandCommand(1, 'name a data subcommand: prepare, synth, index, stats'),
  handler: () => undefined,
};
