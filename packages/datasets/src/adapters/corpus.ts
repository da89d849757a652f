import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError, definePlugin, z, type PluginSpec, type Split } from '@dfdet/core';
import {
  finalizeRecords,
  handleMissing,
  makeAdapter,
  makeReport,
  parseIdentity,
  resolveFrom,
  type DeepfakeFrameRecord,
  type ReportingAdapter,
} from './common.js';
import { DEFAULT_LIST_LIMITS, readListFile } from './list-file.js';
import { scanSources, type ScanResult, type SourceDef, type VideoEntry } from './tree.js';

/** Options every named corpus has. */
export const corpusBaseShape = {
  root: z.string().default('.').describe('the corpus frame folder (<root>/<source>/<video>/<frame>.png)'),
  frames_per_video: z.number().int().positive().optional().describe('keep this many uniformly spaced frames of each video'),
  max_files: z.number().int().positive().optional().describe("keep at most this many frames, whole videos in the paper's seed-42 order"),
  on_missing: z
    .enum(['error', 'skip'])
    .default('error')
    .describe('a video named by the label/split source but absent on disk: fail, or skip and count it'),
  split_lists: z
    .object({ train: z.string().optional(), val: z.string().optional(), test: z.string().optional() })
    .strict()
    .optional()
    .describe("per split, a text file of video ids (<source>/<video> or <video>) replacing the corpus's own split"),
};

export type CorpusBaseOptions = {
  root: string;
  frames_per_video?: number;
  max_files?: number;
  on_missing: 'error' | 'skip';
  split_lists?: { train?: string; val?: string; test?: string };
};

export interface SplitSelection {
  videos: VideoEntry[];
  /** Names the label/split source gives that are not on disk. */
  missing: string[];
  notes?: string[];
}

export interface CorpusContext<O> {
  o: O;
  /** Absolute root. */
  root: string;
  scan: ScanResult;
}

export interface CorpusDef<S extends z.core.$ZodLooseShape> {
  /** Plugin name (kebab-case). */
  name: string;
  /** Dataset name in records and tables. */
  dataset: string;
  description: string;
  options: S;
  /** Source folders to scan. */
  sources(o: z.output<z.ZodObject<typeof corpusBaseShape & S>>): SourceDef[];
  /** The videos of a split, labelled. Default: folder-carried splits; videos without one are test-only. */
  split?(ctx: CorpusContext<z.output<z.ZodObject<typeof corpusBaseShape & S>>>, split: Split): SplitSelection | Promise<SplitSelection>;
  /** Target/identity of a video (default: the paper's `A_B` rule on its last folder name). */
  identity?(v: VideoEntry): { target: string; identity: string };
}

/** Default split rule: a video in a folder that carries splits belongs to those; any other only to `test`. */
export function folderSplit(videos: VideoEntry[], split: Split): VideoEntry[] {
  return videos.filter((v) => (v.splits ? v.splits.includes(split) : split === 'test'));
}

function lastSegment(name: string): string {
  const i = name.lastIndexOf('/');
  return i < 0 ? name : name.slice(i + 1);
}

/** Reads a `split_lists` file: video ids `<source>/<video>` or bare `<video>` (every source). */
export function selectByIdList(file: string, videos: VideoEntry[]): SplitSelection {
  const lines = readListFile(file, DEFAULT_LIST_LIMITS, 'split list');
  const byId = new Map<string, VideoEntry>();
  const byName = new Map<string, VideoEntry[]>();
  for (const v of videos) {
    byId.set(v.id, v);
    for (const key of new Set([v.name, lastSegment(v.name)])) {
      let l = byName.get(key);
      if (!l) byName.set(key, (l = []));
      l.push(v);
    }
  }
  const chosen = new Set<VideoEntry>();
  const missing: string[] = [];
  for (const { line, text } of lines) {
    const key = text.replace(/\.(mp4|avi|mov|mkv)$/i, '');
    const hit = byId.get(key);
    if (hit) chosen.add(hit);
    else if (byName.has(key)) for (const v of byName.get(key)!) chosen.add(v);
    else missing.push(`${file}:${line}: ${text}`);
  }
  return { videos: [...chosen], missing };
}

/** Reads a JSON file with a size bound; errors name the file. */
export function readJsonFile(file: string, what: string, maxBytes = 1024 * 1024 * 1024): unknown {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UserError(`${what} not found: ${file}`);
  }
  if (size > maxBytes) throw new UserError(`${what} ${file} is ${size} bytes, over the limit of ${maxBytes}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${what} ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Builds the adapter of a corpus definition for validated options. */
export function corpusAdapter<S extends z.core.$ZodLooseShape>(
  def: CorpusDef<S>,
  o: z.output<z.ZodObject<typeof corpusBaseShape & S>>,
): ReportingAdapter {
  const opts = o as unknown as CorpusBaseOptions;
  const root = resolve(opts.root);
  let scanning: Promise<ScanResult> | undefined;
  const doScan = async (): Promise<ScanResult> => {
    const defs = def.sources(o);
    const result = await scanSources(root, defs);
    const required = result.absent.filter((d) => !d.optional);
    if (required.length > 0) {
      const d = required[0]!;
      throw new UserError(
        `${def.name}: no folder for source "${d.source}" under ${root} (looked for ${d.dirs.join(', ')}); root must be the corpus's frame folder`,
      );
    }
    if (result.videos.length === 0) {
      const looked = defs.flatMap((d) => d.dirs).slice(0, 8);
      throw new UserError(`${def.name}: no frames found under ${root} (looked in ${looked.join(', ')}); root must be the corpus's frame folder`);
    }
    return result;
  };
  // scanned once per adapter (all splits share it); a failed scan is retried on the next call
  const scan = () =>
    (scanning ??= doScan().catch((err: unknown) => {
      scanning = undefined;
      throw err;
    }));

  return makeAdapter(def.dataset, async (split) => {
    const result = await scan();
    const ctx: CorpusContext<typeof o> = { o, root, scan: result };
    let sel: SplitSelection;
    const listFile = opts.split_lists?.[split];
    if (opts.split_lists) {
      sel = listFile ? selectByIdList(resolveFrom(process.cwd(), listFile), result.videos) : { videos: [], missing: [] };
    } else if (def.split) {
      sel = await def.split(ctx, split);
    } else {
      sel = { videos: folderSplit(result.videos, split), missing: [] };
    }
    handleMissing(opts.on_missing, sel.missing, `${def.name} ${split}`, (m) => `${def.name}: ${m} is named by the split/label source but has no frames under ${root}`);
    const records: DeepfakeFrameRecord[] = [];
    for (const v of sel.videos) {
      const { target, identity } = def.identity ? def.identity(v) : parseIdentity(lastSegment(v.name));
      for (const path of v.frames) {
        records.push({ path, video: v.id, label: v.label, source: v.source, dataset: def.dataset, target, identity, frame: lastSegment(path.replace(/\\/g, '/')) });
      }
    }
    const out = finalizeRecords(records, opts);
    const notes = [...(sel.notes ?? [])];
    if (sel.missing.length) notes.push(`${sel.missing.length} videos named by the split/label source have no frames, skipped`);
    return { records: out, report: makeReport(split, out, sel.missing, notes) };
  });
}

/** A `dataset` plugin over a corpus definition. */
export function defineCorpus<S extends z.core.$ZodLooseShape>(def: CorpusDef<S>): PluginSpec<z.ZodObject<typeof corpusBaseShape & S>, ReportingAdapter> {
  const options = z.object({ ...corpusBaseShape, ...def.options }) as unknown as z.ZodObject<typeof corpusBaseShape & S>;
  return definePlugin({
    kind: 'dataset',
    name: def.name,
    description: def.description,
    options,
    create: (o) => corpusAdapter(def, o),
  });
}
