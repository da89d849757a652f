import { basename, resolve } from 'node:path';
import { UserError, definePlugin, z, type Split } from '@dfdet/core';
import {
  finalizeRecords,
  globToRegExp,
  labelFromSource,
  makeAdapter,
  makeReport,
  parseIdentity,
  resolveFrom,
  type DeepfakeFrameRecord,
  type ReportingAdapter,
} from './common.js';
import { readJsonFile } from './corpus.js';
import { scanSource, type VideoEntry } from './tree.js';

const globList = z.array(z.string().min(1));

export const folderOptions = z.object({
  root: z.string().default('.').describe('the dataset folder: <root>/<source>/<video>/<frame>'),
  sources: z.array(z.string().min(1)).optional().describe('source folders to index (default all)'),
  splits: z
    .union([z.object({ train: globList.optional(), val: globList.optional(), test: globList.optional() }).strict(), z.string()])
    .optional()
    .describe('split → video-name globs (a glob with / matches <source>/<video>), or a JSON file of that mapping; default: every video in every split'),
  dataset: z.string().min(1).optional().describe('dataset name in the records (default: the root folder name)'),
  frames_per_video: z.number().int().positive().optional().describe('keep this many uniformly spaced frames of each video'),
  max_files: z.number().int().positive().optional().describe("keep at most this many frames, whole videos in the paper's seed-42 order"),
});
export type FolderOptions = z.output<typeof folderOptions>;

type SplitGlobs = Partial<Record<Split, string[]>>;

function loadSplitGlobs(spec: FolderOptions['splits']): SplitGlobs | undefined {
  if (spec === undefined) return undefined;
  if (typeof spec !== 'string') return spec;
  const file = resolveFrom(process.cwd(), spec);
  const data = readJsonFile(file, 'split file', 64 * 1024 * 1024);
  const parsed = z.object({ train: globList.optional(), val: globList.optional(), test: globList.optional() }).strict().safeParse(data);
  if (!parsed.success) {
    throw new UserError(`split file ${file}: expected {"train": [globs], "val": [globs], "test": [globs]} (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

/** Whether a video is in a split by the globs: a glob with `/` matches `<source>/<video>`, else the video name. */
export function matchesSplit(v: Pick<VideoEntry, 'source' | 'name'>, globs: RegExp[], withSlash: boolean[]): boolean {
  return globs.some((re, i) => re.test(withSlash[i] ? `${v.source}/${v.name}` : v.name));
}

/**
 * `folder`: a dataset in the paper's layout, found by scanning instead of from list files.
 *
 * Layout: `<root>/<source>/<video>/<frame>` with frames .png/.jpg/.jpeg/.webp (any case).
 * Label rule: real (0) when the source folder name contains "real" (case-insensitive), else fake (1).
 * Video id `<source>/<video>`; `A_B` → target A, identity B.
 * Splits: `splits` maps each split to video-name globs (`*`, `?`, `[..]`, `{a,b}`; a glob containing `/` is matched
 * against `<source>/<video>`), inline or as a JSON file of the same mapping; without it every video is in every split.
 */
export const folderDataset = definePlugin({
  kind: 'dataset',
  name: 'folder',
  description: "scans <root>/<source>/<video>/<frame>.{png,jpg,jpeg,webp}; real iff the source contains 'real'; splits by video-name globs",
  options: folderOptions,
  create: (o): ReportingAdapter => {
    const root = resolve(o.root);
    const dataset = o.dataset ?? basename(root);
    let scanned: Promise<VideoEntry[]> | undefined;
    const scan = () =>
      (scanned ??= scanSource(root, { source: '*', label: labelFromSource, dirs: ['.'], sourceFromSubdir: true }).catch((err: unknown) => {
        scanned = undefined;
        throw err;
      }));
    return makeAdapter(dataset, async (split) => {
      const globs = loadSplitGlobs(o.splits);
      let videos = await scan();
      if (o.sources) {
        const keep = new Set(o.sources);
        const unknown = o.sources.filter((s) => !videos.some((v) => v.source === s));
        if (unknown.length) throw new UserError(`folder: source "${unknown[0]}" has no videos under ${root}`);
        videos = videos.filter((v) => keep.has(v.source));
      }
      if (globs) {
        const list = globs[split] ?? [];
        const res = list.map(globToRegExp);
        const slash = list.map((g) => g.includes('/'));
        videos = videos.filter((v) => matchesSplit(v, res, slash));
      }
      const records: DeepfakeFrameRecord[] = [];
      for (const v of videos) {
        const { target, identity } = parseIdentity(v.name);
        for (const path of v.frames) {
          records.push({ path, video: v.id, label: v.label, source: v.source, dataset, target, identity, frame: basename(path) });
        }
      }
      const out = finalizeRecords(records, o);
      return { records: out, report: makeReport(split, out) };
    });
  },
});
