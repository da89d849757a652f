import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError, definePlugin, z, type Split } from '@dfdet/core';
import { SYNTH_FORMAT, SYNTH_VERSION, generateSynthetic, type SynthManifest } from '../synth/generate.js';
import {
  finalizeRecords,
  handleMissing,
  makeAdapter,
  makeReport,
  type DeepfakeFrameRecord,
  type ReportingAdapter,
} from './common.js';
import { readJsonFile } from './corpus.js';

const safeName = z
  .string()
  .regex(/^[\w.-]+$/, 'a plain file or folder name')
  .refine((s) => s !== '.' && s !== '..', 'a plain file or folder name');

const manifestSchema = z.object({
  format: z.literal(SYNTH_FORMAT),
  version: z.number().int(),
  methods: z.array(safeName),
  videos: z.array(
    z.object({
      source: safeName,
      video: safeName,
      label: z.union([z.literal(0), z.literal(1)]),
      target: z.string(),
      identity: z.string(),
      split: z.enum(['train', 'val', 'test']),
      frames: z.array(safeName),
    }),
  ),
});

/** Reads and checks a synthetic set's manifest.json. */
export function readSynthManifest(root: string): SynthManifest {
  const file = join(root, 'manifest.json');
  if (!existsSync(file)) throw new UserError(`synthetic: no manifest.json in ${root}; generate the set with: exp data synth --out ${root}`);
  const parsed = manifestSchema.safeParse(readJsonFile(file, 'synthetic manifest', 256 * 1024 * 1024));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`synthetic manifest ${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  if (parsed.data.version > SYNTH_VERSION) throw new UserError(`synthetic manifest ${file} is version ${parsed.data.version}; this reader knows ${SYNTH_VERSION}`);
  return parsed.data as unknown as SynthManifest;
}

/** 70/15/15 by an FNV-1a hash of the target identity (a real video and its fakes land together). */
export function hashSplit(target: string): Split {
  let h = 2166136261;
  for (let i = 0; i < target.length; i++) h = Math.imul(h ^ target.charCodeAt(i), 16777619) >>> 0;
  const b = h % 100;
  return b < 70 ? 'train' : b < 85 ? 'val' : 'test';
}

/**
 * `synthetic`: the set `exp data synth` writes (`generateSynthetic`).
 *
 * Layout: `<root>/real/<video>/<frame>.png`, `<root>/<method>/<target>_<donor>/<frame>.png`, `<root>/manifest.json`;
 * the manifest is the index (stray files are ignored). Label: source `real` → 0, every method → 1.
 * Splits: the manifest's (70/15/15 by target identity, seeded), or `split: hash` (FNV-1a of the target id).
 */
export const syntheticDataset = definePlugin({
  kind: 'dataset',
  name: 'synthetic',
  description: 'the procedural set of `exp data synth`: <root>/{real,blend,texture,color,warp}/<video>/<frame>.png + manifest.json',
  options: z.object({
    root: z.string().default('datasets/synthetic').describe('folder `exp data synth` wrote'),
    methods: z.array(z.string().min(1)).optional().describe('fake sources to include (default all in the manifest)'),
    include_real: z.boolean().default(true).describe('include the real source'),
    split: z.enum(['manifest', 'hash']).default('manifest').describe("the manifest's split, or a hash of the target id"),
    on_missing: z.enum(['error', 'skip']).default('error').describe('a manifest frame absent on disk: fail, or skip and count it'),
    frames_per_video: z.number().int().positive().optional().describe('keep this many uniformly spaced frames of each video'),
    max_files: z.number().int().positive().optional().describe("keep at most this many frames, whole videos in the paper's seed-42 order"),
    label: z.string().regex(/^[\w.-]+$/).optional().describe('name in result tables (default: synthetic)'),
    generate: z
      .object({
        videos_per_method: z.number().int().positive().default(24),
        frames_per_video: z.number().int().positive().default(4),
        size: z.number().int().min(32).default(64),
        seed: z.number().int().min(0).default(0),
      })
      .strict()
      .optional()
      .describe('generate the set into root first when it has no manifest.json (as exp data synth would)'),
  }),
  create: (o): ReportingAdapter => {
    const root = resolve(o.root);
    let manifest: SynthManifest | undefined;
    const name = o.label ?? 'synthetic';
    return makeAdapter(name, async (split) => {
      if (!manifest && o.generate && !existsSync(join(root, 'manifest.json'))) {
        process.stderr.write(`generating the synthetic set into ${root} …\n`);
        await generateSynthetic({ out: root, ...o.generate });
      }
      manifest ??= readSynthManifest(root);
      const methods = o.methods ?? manifest.methods;
      for (const m of methods) {
        if (!manifest.methods.includes(m as never)) throw new UserError(`synthetic: method "${m}" is not in ${root}/manifest.json (has ${manifest.methods.join(', ')})`);
      }
      const keep = new Set<string>(methods);
      const records: DeepfakeFrameRecord[] = [];
      const missing: string[] = [];
      for (const v of manifest.videos) {
        if (v.label === 0 ? !o.include_real : !keep.has(v.source)) continue;
        if ((o.split === 'hash' ? hashSplit(v.target) : v.split) !== split) continue;
        for (const f of v.frames) {
          const path = join(root, v.source, v.video, f);
          if (!existsSync(path)) {
            missing.push(path);
            continue;
          }
          records.push({ path, video: `${v.source}/${v.video}`, label: v.label, source: v.source, dataset: 'synthetic', target: v.target, identity: v.identity, frame: f });
        }
      }
      handleMissing(o.on_missing, missing, `synthetic ${split}`, (m) => `synthetic: ${m} is in the manifest but not on disk`);
      const out = finalizeRecords(records, o);
      return { records: out, report: makeReport(split, out, missing) };
    });
  },
});
