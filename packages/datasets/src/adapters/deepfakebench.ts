import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError, definePlugin, z, type Split } from '@dfdet/core';
import {
  finalizeRecords,
  handleMissing,
  labelFromSource,
  makeAdapter,
  makeReport,
  parseIdentity,
  resolveFrom,
  type DeepfakeFrameRecord,
  type ReportingAdapter,
} from './common.js';
import { readJsonFile } from './corpus.js';

export const deepfakebenchOptions = z.object({
  json: z.string().min(1).describe("DeepfakeBench's rearranged dataset JSON (dataset_json/<dataset>.json)"),
  dataset: z.string().min(1).optional().describe('top-level key of the JSON (default: its only key)'),
  compression: z.string().default('c23').describe('compression level key, for datasets that have one (FF++, DFD)'),
  root: z.string().default('.').describe('folder relative frame paths are resolved against'),
  strip_prefix: z.string().optional().describe('removed from the start of every frame path first (e.g. an old absolute rgb_dir)'),
  labels: z.record(z.string(), z.union([z.literal(0), z.literal(1)])).optional().describe("label per label name (default: 0 iff the name contains 'real')"),
  check_exists: z.boolean().default(true).describe('check that every frame file exists'),
  on_missing: z.enum(['error', 'skip']).default('error').describe('a frame that does not exist: fail, or skip and count it'),
  frames_per_video: z.number().int().positive().optional().describe('keep this many uniformly spaced frames of each video'),
  max_files: z.number().int().positive().optional().describe("keep at most this many frames, whole videos in the paper's seed-42 order"),
  max_json_bytes: z.number().int().positive().default(1024 * 1024 * 1024).describe('largest JSON accepted'),
});
export type DeepfakebenchOptions = z.output<typeof deepfakebenchOptions>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isVideoEntry = (v: unknown): boolean => isObj(v) && Array.isArray(v.frames);

/**
 * Indexes one split of a DeepfakeBench JSON:
 * `{<dataset>: {<label_name>: {train|val|test: {[<compression>:] {<video>: {label, frames: [paths]}}}}}}`.
 */
export function indexDeepfakebench(o: DeepfakebenchOptions, split: Split, data: unknown, file: string) {
  if (!isObj(data)) throw new UserError(`DeepfakeBench JSON ${file}: expected an object keyed by dataset name`);
  const keys = Object.keys(data);
  const name = o.dataset ?? (keys.length === 1 ? keys[0]! : undefined);
  if (name === undefined) throw new UserError(`DeepfakeBench JSON ${file} has datasets ${keys.join(', ')}; set dataset to one of them`);
  const ds = data[name];
  if (!isObj(ds)) throw new UserError(`DeepfakeBench JSON ${file}: no dataset "${name}" (has ${keys.join(', ') || 'none'})`);
  const root = resolve(o.root);
  const records: DeepfakeFrameRecord[] = [];
  const missing: string[] = [];
  for (const [labelName, bySplit] of Object.entries(ds)) {
    const where = `${file}: ${name}.${labelName}`;
    if (!isObj(bySplit)) throw new UserError(`${where}: expected an object of splits`);
    let videos = bySplit[split];
    if (videos === undefined) continue;
    if (!isObj(videos)) throw new UserError(`${where}.${split}: expected an object`);
    const values = Object.values(videos);
    if (values.length > 0 && !values.every(isVideoEntry)) {
      const c = videos[o.compression];
      if (!isObj(c)) {
        throw new UserError(`${where}.${split}: no compression level "${o.compression}" (has ${Object.keys(videos).join(', ')}); set compression`);
      }
      videos = c;
    }
    const label = o.labels?.[labelName] ?? labelFromSource(labelName);
    for (const [video, entry] of Object.entries(videos as Obj)) {
      if (!isVideoEntry(entry)) throw new UserError(`${where}.${split}.${video}: expected {label, frames: [...]}`);
      const frames = (entry as { frames: unknown[] }).frames;
      const { target, identity } = parseIdentity(video);
      for (const [i, f] of frames.entries()) {
        if (typeof f !== 'string' || f.length === 0 || f.length > 4096 || f.includes('\0')) {
          throw new UserError(`${where}.${split}.${video}.frames[${i}]: expected a path string`);
        }
        let p = f.replace(/\\/g, '/');
        if (o.strip_prefix && p.startsWith(o.strip_prefix)) p = p.slice(o.strip_prefix.length).replace(/^\/+/, '');
        const path = isAbsolute(p) ? p : resolve(root, p);
        if (o.check_exists && !existsSync(path)) {
          missing.push(`${labelName}/${video}: ${path}`);
          continue;
        }
        const frame = p.slice(p.lastIndexOf('/') + 1);
        records.push({ path, video: `${labelName}/${video}`, label, source: labelName, dataset: name, target, identity, frame });
      }
    }
  }
  handleMissing(o.on_missing, missing, `deepfakebench ${split}`, (m) => `deepfakebench: frame ${m} (from ${file}) not found; set root or strip_prefix`);
  const out = finalizeRecords(records, o);
  return { records: out, report: makeReport(split, out, missing, missing.length ? [`${missing.length} frames not found, skipped`] : []) };
}

/**
 * `deepfakebench`: DeepfakeBench's rearranged dataset JSON (`preprocessing/rearrange.py` output), e.g.
 * `{"FaceForensics++": {"FF-real": {"train": {"c23": {"000": {"label": "FF-real", "frames": [".../000/000.png", ...]}}}}}}`;
 * datasets without compression levels (Celeb-DF, DFDC, …) have the videos directly under the split.
 * Label: per label name, 0 when it contains "real" (FF-real, CelebDFv2_real, DFDC_Real, …) else 1, or `labels`.
 * Video id `<label_name>/<video>`; source = label name. Relative frame paths are resolved against `root` after
 * `strip_prefix` is removed (backslashes read as /).
 */
export const deepfakebenchDataset = definePlugin({
  kind: 'dataset',
  name: 'deepfakebench',
  description: "DeepfakeBench's rearranged JSON {dataset: {label: {split: {[compression:] {video: {frames}}}}}}; real iff label name has 'real'",
  options: deepfakebenchOptions,
  create: (o): ReportingAdapter => {
    let data: unknown;
    const file = resolveFrom(process.cwd(), o.json);
    return makeAdapter(o.dataset ?? 'deepfakebench', async (split) => {
      data ??= readJsonFile(file, 'DeepfakeBench JSON', o.max_json_bytes);
      return indexDeepfakebench(o, split, data, file);
    });
  },
});
