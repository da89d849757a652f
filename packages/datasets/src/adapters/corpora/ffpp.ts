import { join } from 'node:path';
import { UserError, z, type Split } from '@dfdet/core';
import { isDir, resolveFrom } from '../common.js';
import { defineCorpus, readJsonFile, type SplitSelection } from '../corpus.js';
import type { SourceDef, VideoEntry } from '../tree.js';

export const FFPP_METHODS = ['Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures', 'FaceShifter'] as const;
export type FfppMethod = (typeof FFPP_METHODS)[number];

/** The paper's short folder names (`datasets/FF/DF`), then the full names. */
const SHORT: Record<FfppMethod, string> = { Deepfakes: 'DF', Face2Face: 'F2F', FaceSwap: 'FS', NeuralTextures: 'NT', FaceShifter: 'FSh' };

/**
 * Candidate folders of one FF++ source, flat first (`<root>/DF`, `<root>/Deepfakes`), then the official
 * tree with frames extracted by DeepfakeBench (`frames`) or by FF++'s own script (`images`).
 */
function ffDirs(flat: string[], official: string, c: string): string[] {
  return [...flat.map((f) => join(f, c)), ...flat, join(official, c, 'frames'), join(official, c, 'images')];
}

/**
 * Reads an official FF++ split file (`splits/train.json`): a JSON list of pairs `["071", "054"]`.
 * Each pair stands for real videos 071 and 054 and fakes 071_054 and 054_071 of every method.
 */
export function readFfppSplit(file: string): [string, string][] {
  const data = readJsonFile(file, 'FF++ split file', 16 * 1024 * 1024);
  if (!Array.isArray(data)) throw new UserError(`FF++ split file ${file}: expected a JSON list of pairs like ["071", "054"]`);
  return data.map((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((s) => typeof s === 'string' && /^[\w-]{1,64}$/.test(s))) {
      throw new UserError(`FF++ split file ${file}: entry ${i} is ${JSON.stringify(pair)?.slice(0, 80)}, expected a pair of video ids like ["071", "054"]`);
    }
    return [pair[0], pair[1]] as [string, string];
  });
}

/** Videos of one split named by the pairs: reals by id, fakes by `a_b` and `b_a`. */
export function selectFfppPairs(pairs: [string, string][], videos: VideoEntry[], sources: { source: string; label: 0 | 1 }[]): SplitSelection {
  const wanted = new Map<string, string>(); // id -> source
  for (const [a, b] of pairs) {
    for (const s of sources) {
      const names = s.label === 0 ? [a, b] : [`${a}_${b}`, `${b}_${a}`];
      for (const n of names) wanted.set(`${s.source}/${n}`, s.source);
    }
  }
  const byId = new Map(videos.map((v) => [v.id, v]));
  const chosen: VideoEntry[] = [];
  const missing: string[] = [];
  for (const id of wanted.keys()) {
    const v = byId.get(id);
    if (v) chosen.push(v);
    else missing.push(id);
  }
  return { videos: chosen, missing };
}

function splitFile(o: { root: string; split_dir?: string }, split: Split): string {
  const dir = o.split_dir ? resolveFrom(process.cwd(), o.split_dir) : join(resolveFrom(process.cwd(), o.root), 'splits');
  if (!isDir(dir)) {
    throw new UserError(
      `ffpp: split folder ${dir} not found; set split_dir to the folder with FF++'s official train.json, val.json, test.json (dataset/splits in the FaceForensics repository)`,
    );
  }
  return join(dir, `${split}.json`);
}

/**
 * `ffpp`: FaceForensics++ (Rössler et al. 2019).
 *
 * Layout (frames): either flat, as in the paper, `<root>/{DF,F2F,FS,NT,FSh,real}/<video>/<frame>` (full names
 * `Deepfakes`, `Face2Face`, `FaceSwap`, `NeuralTextures`, `FaceShifter`, `original`/`youtube` work too, optionally with
 * a `<compression>` level below), or the official tree `<root>/manipulated_sequences/<Method>/<c23|c40|raw>/frames/<video>/`
 * and `<root>/original_sequences/youtube/<c>/frames/<video>/` (`images/` instead of `frames/` as FF++'s extraction
 * script names it).
 * Labels: originals real (0, source `real`), every method fake (1, source = method name).
 * Splits: the official `train.json` / `val.json` / `test.json` (360/70/70 pairs): a pair ["071","054"] selects real
 * videos 071 and 054 and fake videos 071_054 and 054_071. Fake `A_B`: target A, identity B.
 */
export const ffppDataset = defineCorpus({
  name: 'ffpp',
  dataset: 'FF++',
  description: 'FaceForensics++: <root>/{DF,F2F,FS,NT,FSh,real}/<video> or the official tree; official pair splits (split_dir/*.json)',
  options: {
    compression: z.enum(['c23', 'c40', 'raw']).default('c23').describe('compression level folder of the official tree'),
    methods: z.array(z.enum(FFPP_METHODS)).min(1).default(['Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures']).describe('fake methods'),
    include_real: z.boolean().default(true).describe('index the original (real) videos'),
    split_dir: z.string().optional().describe('folder with the official train.json, val.json, test.json (default <root>/splits)'),
  },
  sources: (o) => {
    const defs: SourceDef[] = o.methods.map((m) => ({
      source: m,
      label: 1 as const,
      dirs: ffDirs([SHORT[m], m], join('manipulated_sequences', m), o.compression),
    }));
    if (o.include_real) {
      defs.push({ source: 'real', label: 0, dirs: ffDirs(['real', 'original', 'youtube'], join('original_sequences', 'youtube'), o.compression) });
    }
    return defs;
  },
  split: ({ o, scan }, split) => {
    const sources = scan.found.map(({ def }) => ({ source: def.source, label: def.label as 0 | 1 }));
    return selectFfppPairs(readFfppSplit(splitFile(o, split)), scan.videos, sources);
  },
});

/**
 * `dfd`: DeepFakeDetection (Google/Jigsaw 2019, distributed with FF++).
 *
 * Layout (frames): flat `<root>/{real,actors}/<video>/` and `<root>/{fake,DFD,DeepFakeDetection}/<video>/`, or the
 * official tree `<root>/original_sequences/actors/<c>/frames/<video>/` and
 * `<root>/manipulated_sequences/DeepFakeDetection/<c>/frames/<video>/`.
 * Labels: actors real (0, source `real`), DeepFakeDetection fake (1). No official split: every video is in `test`.
 * Names: real `01__exit_phone_room`, fake `01_02__exit_phone_room__YVGY8LOK` (target actor 01, identity 02).
 */
export const dfdDataset = defineCorpus({
  name: 'dfd',
  dataset: 'DFD',
  description: 'DeepFakeDetection: <root>/{real,actors}/ and <root>/{fake,DeepFakeDetection}/ or the FF++ tree; all videos in test',
  options: {
    compression: z.enum(['c23', 'c40', 'raw']).default('c23').describe('compression level folder of the official tree'),
  },
  sources: (o) => [
    { source: 'real', label: 0, dirs: ffDirs(['real', 'actors'], join('original_sequences', 'actors'), o.compression) },
    { source: 'DeepFakeDetection', label: 1, dirs: ffDirs(['fake', 'DFD', 'DeepFakeDetection'], join('manipulated_sequences', 'DeepFakeDetection'), o.compression) },
  ],
  identity: (v) => {
    const head = v.name.split('__')[0]!;
    const [t, s] = head.split('_');
    return { target: t!, identity: s ?? t! };
  },
});
