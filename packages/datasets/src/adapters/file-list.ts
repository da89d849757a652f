import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { UserError, definePlugin, z, type Split } from '@dfdet/core';
import {
  finalizeRecords,
  labelFromSource,
  makeAdapter,
  makeReport,
  parseIdentity,
  type DeepfakeFrameRecord,
  type IndexResult,
  type ReportingAdapter,
} from './common.js';
import { DEFAULT_LIST_LIMITS, readListFile } from './list-file.js';

const labelValue = z.union([z.literal(0), z.literal(1), z.enum(['real', 'fake'])]);

/** A list file, or a list file with the label/source of every line it holds (overriding the path rule). */
export const listEntry = z.union([
  z.string().min(1),
  z
    .object({
      file: z.string().min(1).describe('the list file'),
      label: labelValue.optional().describe('label of every path in it (0/real or 1/fake) instead of the folder-name rule'),
      source: z.string().min(1).optional().describe('source name of every path in it instead of the folder name'),
    })
    .strict(),
]);
export type ListEntry = z.output<typeof listEntry>;

const listArray = z.array(listEntry);

export const fileListOptions = z.object({
  root: z.string().default('.').describe('folder the paths in the lists are also resolved against'),
  lists: z
    .object({ train: listArray.optional(), val: listArray.optional(), test: listArray.optional() })
    .strict()
    .default({})
    .describe('per split: list files (from the cwd, else root), or {file, label, source}; one frame path a line, # comments'),
  dataset: z.string().min(1).optional().describe("dataset name in the records (default: the folder above the sources, e.g. 'FF')"),
  frames_per_video: z.number().int().positive().optional().describe('keep this many uniformly spaced frames of each video'),
  max_files: z.number().int().positive().optional().describe("keep at most this many frames, whole videos in the paper's seed-42 order"),
  on_missing: z.enum(['error', 'skip']).default('error').describe('a listed path that does not exist: fail, or skip and count it'),
  max_list_bytes: z.number().int().positive().default(DEFAULT_LIST_LIMITS.maxBytes).describe('largest list file accepted'),
  max_line_length: z.number().int().positive().default(DEFAULT_LIST_LIMITS.maxLineLength).describe('longest line accepted'),
});
export type FileListOptions = z.output<typeof fileListOptions>;

function toLabel(v: z.output<typeof labelValue> | undefined): 0 | 1 | undefined {
  if (v === undefined) return undefined;
  if (v === 'real') return 0;
  if (v === 'fake') return 1;
  return v;
}

/** Where a listed path is: as given (absolute, or from the cwd), else from the list's folder, else from root. */
export function resolveListedPath(path: string, listFile: string, root: string): { found?: string; tried: string[] } {
  const tried = isAbsolute(path) ? [path] : [resolve(path), resolve(dirname(listFile), path), resolve(root, path)];
  const unique = [...new Set(tried)];
  for (const p of unique) if (existsSync(p)) return { found: p, tried: unique };
  return { tried: unique };
}

/** Resolves a list file named in options: as given (from the cwd), else from root. */
function resolveListFile(file: string, root: string): string {
  if (isAbsolute(file)) return file;
  const fromCwd = resolve(file);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = resolve(root, file);
  return existsSync(fromRoot) ? fromRoot : fromCwd;
}

/** The record the paper's rules make of a frame path `.../<dataset>/<source>/<video>/<frame>`. */
export function recordFromPath(
  path: string,
  overrides: { label?: 0 | 1; source?: string; dataset?: string } = {},
): DeepfakeFrameRecord | undefined {
  const parts = path.split(sep === '\\' ? /[\\/]/ : '/').filter((p) => p !== '');
  if (parts.length < 3) return undefined;
  const frame = parts[parts.length - 1]!;
  const video = parts[parts.length - 2]!;
  const sourceFolder = parts[parts.length - 3]!;
  const source = overrides.source ?? sourceFolder;
  const { target, identity } = parseIdentity(video);
  return {
    path,
    video: `${source}/${video}`,
    label: overrides.label ?? labelFromSource(source),
    source,
    dataset: overrides.dataset ?? parts[parts.length - 4] ?? 'file-list',
    target,
    identity,
    frame,
  };
}

/** Indexes one split from its list files (exported for the index writer's round-trip and tests). */
export function indexFileLists(o: FileListOptions, split: Split): IndexResult {
  const root = resolve(o.root);
  const entries = o.lists[split] ?? [];
  const byPath = new Map<string, { rec: DeepfakeFrameRecord; where: string }>();
  const missing: string[] = [];
  for (const entry of entries) {
    const spec = typeof entry === 'string' ? { file: entry } : entry;
    const file = resolveListFile(spec.file, root);
    const lines = readListFile(file, { maxBytes: o.max_list_bytes, maxLineLength: o.max_line_length }, `list file (${split})`);
    const label = toLabel(spec.label);
    for (const { line, text } of lines) {
      const where = `${file}:${line}`;
      const { found, tried } = resolveListedPath(text, file, root);
      if (!found) {
        if (o.on_missing === 'error') {
          throw new UserError(`${where}: ${text} not found (looked at ${tried.join(', ')}); set on_missing: skip to index what is there`);
        }
        missing.push(`${where}: ${text}`);
        continue;
      }
      const rec = recordFromPath(found, { label, source: spec.source, dataset: o.dataset });
      if (!rec) throw new UserError(`${where}: ${text} is not <source>/<video>/<frame>`);
      const prior = byPath.get(found);
      if (prior) {
        if (prior.rec.label !== rec.label || prior.rec.source !== rec.source) {
          throw new UserError(`${where}: ${text} is also listed at ${prior.where} with another label or source`);
        }
        continue;
      }
      byPath.set(found, { rec, where });
    }
  }
  const records = finalizeRecords([...byPath.values()].map((v) => v.rec), o);
  const notes = missing.length ? [`${missing.length} listed paths not found, skipped`] : [];
  return { records, report: makeReport(split, records, missing, notes) };
}

/**
 * `file-list`: the paper's dataset format.
 *
 * Layout: `datasets/<dataset>/<source>/<video>/<frame>` (e.g. `datasets/FF/DF/000_003/025.png`), and per split
 * one or more text files that list frame paths, one a line (`config/datasets/FF/train/DF.txt`). Blank lines and
 * lines starting with `#` are ignored. A path is used as given if it exists (absolute, or from the cwd), else it
 * is resolved against the list file's folder, then against `root`.
 *
 * Label rule (the paper's): real (0) when the source folder name contains "real" (case-insensitive here; the
 * paper's test is case-sensitive, and all its real folders are lower-case `real`, `Celeb-real`, `YouTube-real`),
 * else fake (1). A list entry `{file, label, source}` overrides the rule for every path in that file.
 * Video id: `<source>/<video>`; a video named `A_B` has target A and source identity B.
 * Duplicate paths are indexed once (the paper takes `np.unique`).
 */
export const fileListDataset = definePlugin({
  kind: 'dataset',
  name: 'file-list',
  description:
    "the paper's list files: one frame path a line, <dataset>/<source>/<video>/<frame>; real iff the source folder contains 'real'",
  options: fileListOptions,
  create: (o): ReportingAdapter => makeAdapter(o.dataset ?? 'file-list', async (split) => indexFileLists(o, split)),
});
