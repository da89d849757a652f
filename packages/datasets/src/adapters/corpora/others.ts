import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z, type Split } from '@dfdet/core';
import { SPLITS, isDir, naturalCompare, resolveFrom } from '../common.js';
import { defineCorpus, folderSplit, selectByIdList, type SplitSelection } from '../corpus.js';
import type { SourceDef, VideoEntry } from '../tree.js';

/** Real-looking source folder names in corpora whose layout is not pinned down. */
const REAL_NAME = /real|original|pristine|authentic/i;
const genericLabel = (s: string): 0 | 1 => (REAL_NAME.test(s) ? 0 : 1);

function lastSegment(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Folder names directly under `dir` (sync: used while building source lists). */
function dirNames(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort(naturalCompare);
  } catch {
    return [];
  }
}

/**
 * Sources of a corpus whose layout is only assumed: every folder under root (or under `<root>/<split>/` when root has
 * `train`/`val`/`test` folders) is a source, frames at any depth below it; real when its name contains
 * real/original/pristine/authentic.
 */
function genericSources(root: string): SourceDef[] {
  const present = SPLITS.filter((s) => isDir(join(root, s)));
  if (present.length === 0) return [{ source: '(every folder)', label: genericLabel, dirs: ['.'], depth: 'any', sourceFromSubdir: true }];
  return present.map((s) => ({ source: `(every folder in ${s})`, label: genericLabel, dirs: [s], depth: 'any' as const, sourceFromSubdir: true, splits: [s] }));
}

/**
 * `ffiw`: FFIW-10K (Zhou et al. 2021, face forgery in the wild). PARTLY UNSURE of the layout: this assumes the release's
 * `source/<split>/` (real, original videos) and `target/<split>/` (fake, manipulated) folders, frames in
 * `<root>/{source,target}/{train,val,test}/<video>/` (`real`/`fake` accepted for source/target). A flat
 * `<root>/{real,fake}/<video>/` (as the paper's FFIW lists) puts every video in test.
 * Labels: source real (0), target fake (1). Splits: from the split folder.
 */
export const ffiwDataset = defineCorpus({
  name: 'ffiw',
  dataset: 'FFIW',
  description: 'FFIW-10K (layout partly assumed): <root>/{source,target}/{train,val,test}/<video>, source real, target fake',
  options: {},
  sources: () => [
    ...SPLITS.flatMap((s): SourceDef[] => [
      { source: 'real', label: 0, dirs: [`source/${s}`, `real/${s}`], splits: [s], optional: true },
      { source: 'fake', label: 1, dirs: [`target/${s}`, `fake/${s}`], splits: [s], optional: true },
    ]),
    { source: 'real', label: 0, dirs: ['real', 'source'], optional: true },
    { source: 'fake', label: 1, dirs: ['fake', 'target'], optional: true },
  ],
});

/**
 * `deeperforensics`: DeeperForensics-1.0 (Jiang et al. 2020). PARTLY UNSURE: assumes the release tree
 * `manipulated_videos/<variant>/<video>` (variants `end_to_end`, `end_to_end_level_1`…, `reenact_postprocess`),
 * `source_videos/<actor>/…` (real; frames at any depth) and `lists/splits/{train,val,test}.txt` naming manipulated videos
 * (`000_M101.mp4`: FF++ target 000, actor M101). Flat `<root>/{fake,real}/` also works.
 * Labels: manipulated fake (1), source videos real (0). Splits: the official lists select the fake videos; the real
 * videos are not in them and go to test only (use `split_lists` for another protocol). Without the lists every video is
 * in test.
 */
export const deeperforensicsDataset = defineCorpus({
  name: 'deeperforensics',
  dataset: 'DeeperForensics',
  description: 'DeeperForensics-1.0 (layout partly assumed): manipulated_videos/<variant>/ fake, source_videos/ real, lists/splits/*.txt',
  options: {
    variant: z.string().default('end_to_end').describe('manipulated_videos subfolder (perturbation variant)'),
    split_dir: z.string().optional().describe('folder with train.txt, val.txt, test.txt (default <root>/lists/splits)'),
  },
  sources: (o) => [
    { source: o.variant, label: 1, dirs: [join('manipulated_videos', o.variant), o.variant, 'fake'] },
    { source: 'real', label: 0, dirs: ['source_videos', 'real'], depth: 'any', optional: true },
  ],
  split: ({ o, root, scan }, split) => {
    const dir = o.split_dir ? resolveFrom(process.cwd(), o.split_dir) : join(root, 'lists', 'splits');
    if (!isDir(dir)) return { videos: folderSplit(scan.videos, split), missing: [], notes: ['no split lists: every video is in test'] };
    const fakes = scan.videos.filter((v) => v.label === 1);
    const sel = selectByIdList(join(dir, `${split}.txt`), fakes);
    if (split === 'test') sel.videos.push(...scan.videos.filter((v) => v.label === 0));
    return sel;
  },
  identity: (v) => {
    const [t, s] = lastSegment(v.name).split('_');
    return v.label === 1 ? { target: t!, identity: s ?? t! } : { target: lastSegment(v.name), identity: lastSegment(v.name) };
  },
});

/**
 * `wilddeepfake`: WildDeepfake (Zi et al. 2020). PARTLY UNSURE: assumes the archives unpacked into
 * `<root>/{real_train,real_test,fake_train,fake_test}/…/<frame>.png` with a video's (sequence's) frames in one folder at
 * any depth. Labels from the real_/fake_ prefix, splits from the _train/_test suffix (no val). A flat
 * `<root>/{real,fake}/` puts everything in test.
 */
export const wilddeepfakeDataset = defineCorpus({
  name: 'wilddeepfake',
  dataset: 'WildDeepfake',
  description: 'WildDeepfake (layout partly assumed): <root>/{real,fake}_{train,test}/**/<frames>; labels and splits from folder names',
  options: {},
  sources: () => [
    { source: 'real_train', label: 0, dirs: ['real_train'], depth: 'any', splits: ['train'], optional: true },
    { source: 'real_test', label: 0, dirs: ['real_test'], depth: 'any', splits: ['test'], optional: true },
    { source: 'fake_train', label: 1, dirs: ['fake_train'], depth: 'any', splits: ['train'], optional: true },
    { source: 'fake_test', label: 1, dirs: ['fake_test'], depth: 'any', splits: ['test'], optional: true },
    { source: 'real', label: 0, dirs: ['real'], depth: 'any', optional: true },
    { source: 'fake', label: 1, dirs: ['fake'], depth: 'any', optional: true },
  ],
  identity: (v) => ({ target: v.name.split('/')[0]!, identity: v.name.split('/')[0]! }),
});

/**
 * `uadfv`: UADFV (Yang et al. 2019 / Li et al. 2018), 49 real and 49 fake videos: `<root>/real/0000/` and
 * `<root>/fake/0000_fake/`. No official split: every video is in test. `0000_fake` has target 0000.
 */
export const uadfvDataset = defineCorpus({
  name: 'uadfv',
  dataset: 'UADFV',
  description: 'UADFV: <root>/real/<video> real, <root>/fake/<video>_fake fake; all videos in test',
  options: {},
  sources: () => [
    { source: 'real', label: 0, dirs: ['real'] },
    { source: 'fake', label: 1, dirs: ['fake'] },
  ],
  identity: (v) => {
    const t = lastSegment(v.name).replace(/_fake$/, '');
    return { target: t, identity: t };
  },
});

const FAKEAV_CATEGORIES = ['RealVideo-RealAudio', 'RealVideo-FakeAudio', 'FakeVideo-RealAudio', 'FakeVideo-FakeAudio'] as const;

/**
 * `fakeavceleb`: FakeAVCeleb v1.2 (Khalid et al. 2021). Layout:
 * `<root>/<category>/<ethnicity>/<gender>/<id>/<video>/<frame>` with categories RealVideo-RealAudio,
 * RealVideo-FakeAudio, FakeVideo-RealAudio, FakeVideo-FakeAudio. Visual labels: FakeVideo-* fake (1), RealVideo-* real (0)
 * — RealVideo-FakeAudio has real pixels (option: label it real, fake, or leave it out). meta_data.csv (methods) is not
 * read. No official split: every video is in test. Target = the `<id>` folder; identity = the second idNNNNN in the
 * video name when there is one.
 */
export const fakeavcelebDataset = defineCorpus({
  name: 'fakeavceleb',
  dataset: 'FakeAVCeleb',
  description: 'FakeAVCeleb: <root>/{Real,Fake}Video-{Real,Fake}Audio/<ethnicity>/<gender>/<id>/<video>; visual labels; all in test',
  options: {
    real_video_fake_audio: z.enum(['real', 'fake', 'exclude']).default('real').describe('how RealVideo-FakeAudio is labelled (its frames are real)'),
  },
  sources: (o) =>
    FAKEAV_CATEGORIES.filter((c) => !(c === 'RealVideo-FakeAudio' && o.real_video_fake_audio === 'exclude')).map((c) => ({
      source: c,
      label: c.startsWith('FakeVideo') || (c === 'RealVideo-FakeAudio' && o.real_video_fake_audio === 'fake') ? (1 as const) : (0 as const),
      dirs: [c],
      depth: 'any' as const,
      optional: true,
    })),
  identity: (v) => {
    const parts = v.name.split('/');
    const target = parts.length >= 2 ? parts[parts.length - 2]! : lastSegment(v.name);
    const ids = lastSegment(v.name).match(/id\d+/g);
    return { target, identity: ids?.[0] ?? target };
  },
});

/**
 * `kodf`: KoDF, the Korean DeepFake Detection Dataset (Kwon et al. 2021). UNSURE of the layout: assumes
 * `<root>/original_videos/**` (real) and `<root>/synthesized_videos/<method>/**` (fake, one folder per method such as
 * deepfacelab, faceswap, fsgan, fo, atfhp, wav2lip), frames of a video in one folder. No split modelled: all in test.
 */
export const kodfDataset = defineCorpus({
  name: 'kodf',
  dataset: 'KoDF',
  description: 'KoDF (layout assumed): original_videos/** real, synthesized_videos/<method>/** fake; all in test',
  options: {},
  sources: () => [
    { source: 'real', label: 0, dirs: ['original_videos', 'original', 'real'], depth: 'any' },
    { source: '(every method folder)', label: 1, dirs: ['synthesized_videos', 'synthesized', 'fake'], depth: 'any', sourceFromSubdir: true },
  ],
});

const DFDM_MODELS: Record<string, string[]> = {
  faceswap: ['faceswap', 'Faceswap', 'FaceSwap'],
  lightweight: ['lightweight', 'Lightweight'],
  iae: ['iae', 'IAE'],
  dfaker: ['dfaker', 'Dfaker'],
  dfl: ['dfl', 'DFL', 'DFL-H128', 'dfl-h128', 'dfl_h128'],
};

/**
 * `dfdm`: DFDM, Deepfakes from Different Models (Jia et al. 2022): one folder per autoencoder model
 * (`faceswap`, `lightweight`, `iae`, `dfaker`, `dfl` / `DFL-H128`), all fake; the real videos are Celeb-DF's Celeb-real,
 * taken from `real_dir` (e.g. the Celeb-DF-v2 frame folder's `Celeb-real`) or `<root>/real`. PARTLY UNSURE of the
 * folder names. The paper's lists use dfaker, dfl, iae and lightweight. All videos in test.
 */
export const dfdmDataset = defineCorpus({
  name: 'dfdm',
  dataset: 'DFDM',
  description: 'DFDM: <root>/{faceswap,lightweight,iae,dfaker,dfl}/<video> fake; real from real_dir (Celeb-DF Celeb-real); all in test',
  options: {
    models: z.array(z.enum(['faceswap', 'lightweight', 'iae', 'dfaker', 'dfl'])).min(1).default(['dfaker', 'dfl', 'iae', 'lightweight']).describe('model folders'),
    real_dir: z.string().optional().describe("real videos' frame folder (default <root>/real or <root>/Celeb-real)"),
  },
  sources: (o) => [
    ...o.models.map((m): SourceDef => ({ source: m, label: 1, dirs: DFDM_MODELS[m]! })),
    { source: 'Celeb-real', label: 0, dirs: o.real_dir ? [resolve(o.real_dir)] : ['real', 'Celeb-real'], optional: !o.real_dir },
  ],
  identity: (v) => {
    const parts = lastSegment(v.name).split('_');
    return parts.length >= 3 ? { target: parts[0]!, identity: parts[1]! } : { target: parts[0]!, identity: parts[0]! };
  },
});

/**
 * `deepspeak`: DeepSpeak (Barrington et al. 2024). PARTLY UNSURE of the raw layout: frames in
 * `<root>/<split>/<type>/<video>/` or `<root>/<split>-<type>/<video>/` (as the paper's lists `train-facefusion.txt`),
 * splits train and test (no val), types real, facefusion, facefusion_gan, facefusion_live, retalking, wav2lip, ….
 * Label: type `real` real (0), every other type fake (1).
 */
export const deepspeakDataset = defineCorpus({
  name: 'deepspeak',
  dataset: 'DeepSpeak',
  description: 'DeepSpeak (layout partly assumed): <root>/<split>/<type>/<video> or <root>/<split>-<type>/<video>; type real is real',
  options: {},
  sources: (o) => {
    const root = resolve(o.root);
    const defs: SourceDef[] = [];
    for (const s of SPLITS) {
      if (isDir(join(root, s))) defs.push({ source: `(types in ${s})`, label: genericLabel, dirs: [s], sourceFromSubdir: true, splits: [s] });
      for (const name of dirNames(root).filter((n) => n.startsWith(`${s}-`))) {
        const type = name.slice(s.length + 1);
        defs.push({ source: type, label: genericLabel(type), dirs: [name], splits: [s] });
      }
    }
    if (defs.length === 0) defs.push({ source: '(train/test folders)', label: 1, dirs: ['train', 'test'] });
    return defs;
  },
  identity: (v) => ({ target: lastSegment(v.name), identity: lastSegment(v.name) }),
});

const genericDef = (name: string, dataset: string, what: string) =>
  defineCorpus({
    name,
    dataset,
    description: `${what} (layout assumed): every folder under root (or root/<split>/) is a source; real iff its name says real/original`,
    options: {},
    sources: (o) => genericSources(resolve(o.root)),
    split: ({ scan }, split: Split): SplitSelection => ({ videos: folderSplit(scan.videos, split), missing: [] }),
    identity: (v: VideoEntry) => ({ target: lastSegment(v.name), identity: lastSegment(v.name) }),
  });

/**
 * `polyglotfake`: PolyGlotFake (Hou et al. 2024, multilingual audio-visual deepfakes). UNSURE of the official layout:
 * every folder under root (or under `<root>/{train,val,test}/` when present, giving the split) is a source with frames
 * at any depth; real when its name contains real/original/pristine/authentic, else fake. Without split folders every
 * video is in test.
 */
export const polyglotfakeDataset = genericDef('polyglotfake', 'PolyGlotFake', 'PolyGlotFake');

/**
 * `idforge`: IDForge (Xu et al. 2024, identity-driven multimedia forgery). UNSURE of the official layout: the same
 * generic rule as `polyglotfake` (folders as sources, real by name, `<root>/<split>/` folders as splits if present).
 * Its reference (identity) set is not modelled.
 */
export const idforgeDataset = genericDef('idforge', 'IDForge', 'IDForge');
