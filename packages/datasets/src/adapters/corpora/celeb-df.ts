import { join } from 'node:path';
import { UserError, z, type Split } from '@dfdet/core';
import { isFile, labelFromSource, resolveFrom } from '../common.js';
import { defineCorpus, folderSplit, type CorpusContext, type SplitSelection } from '../corpus.js';
import { readListFile } from '../list-file.js';
import type { SourceDef, VideoEntry } from '../tree.js';

export interface TestListEntry {
  /** 0 real, 1 fake: converted from the file's own convention (1 = real). */
  label: 0 | 1;
  /** Source folder, when the line has one (`YouTube-real`). */
  source?: string;
  /** Video name without extension (`00170`). */
  video: string;
  where: string;
}

/**
 * Reads Celeb-DF's `List_of_testing_videos.txt`: lines `<flag> <path>` such as `1 YouTube-real/00170.mp4` or
 * `0 Celeb-synthesis/id0_id16_0004.mp4`. In this file 1 means REAL and 0 means SYNTHESIZED, the reverse of the
 * usual deepfake convention; the returned labels are converted to 0 = real, 1 = fake.
 */
export function readCelebDfTestList(file: string): TestListEntry[] {
  return readListFile(file, undefined, 'Celeb-DF test list').map(({ line, text }) => {
    const where = `${file}:${line}`;
    const m = /^([01])\s+(\S+)$/.exec(text);
    if (!m) throw new UserError(`${where}: expected "<1|0> <folder>/<video>.mp4" (1 = real in this file), got "${text.slice(0, 80)}"`);
    const path = m[2]!.replace(/\\/g, '/').replace(/\.(mp4|avi|mov|mkv)$/i, '');
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    if (parts.length === 0 || parts.length > 2 || parts.includes('..')) throw new UserError(`${where}: "${m[2]}" is not <folder>/<video>`);
    return {
      label: m[1] === '1' ? 0 : 1,
      ...(parts.length === 2 ? { source: parts[0] } : {}),
      video: parts[parts.length - 1]!,
      where,
    };
  });
}

/** test = the videos the list names (labels checked against the folders); train = all others; val empty. */
export function celebDfSplit(ctx: CorpusContext<{ root: string; test_list?: string }>, split: Split, required: boolean): SplitSelection {
  const file = ctx.o.test_list ? resolveFrom(process.cwd(), ctx.o.test_list) : join(ctx.root, 'List_of_testing_videos.txt');
  if (!isFile(file)) {
    if (required) throw new UserError(`List_of_testing_videos.txt not found at ${file}; set test_list to Celeb-DF's official test list`);
    return { videos: folderSplit(ctx.scan.videos, split), missing: [], notes: ['no test list: every video is in test'] };
  }
  if (split === 'val') return { videos: [], missing: [], notes: ['Celeb-DF has no official validation split'] };
  const list = readCelebDfTestList(file);
  const byId = new Map(ctx.scan.videos.map((v) => [v.id, v]));
  const byName = new Map<string, VideoEntry[]>();
  for (const v of ctx.scan.videos) byName.set(v.name, [...(byName.get(v.name) ?? []), v]);
  const test = new Set<VideoEntry>();
  const missing: string[] = [];
  for (const e of list) {
    const hits = e.source ? [byId.get(`${e.source}/${e.video}`)].filter((v): v is VideoEntry => !!v) : (byName.get(e.video) ?? []);
    if (hits.length === 0) {
      missing.push(`${e.where}: ${e.source ? `${e.source}/` : ''}${e.video}`);
      continue;
    }
    for (const v of hits) {
      if (v.label !== e.label) {
        throw new UserError(
          `${e.where}: the test list says ${e.label === 0 ? 'real (1)' : 'fake (0)'} but ${v.id} is in a ${v.label === 0 ? 'real' : 'fake'} folder`,
        );
      }
      test.add(v);
    }
  }
  if (split === 'test') return { videos: [...test], missing };
  return { videos: ctx.scan.videos.filter((v) => !test.has(v)), missing: [] };
}

const testListOption = z.string().optional().describe('List_of_testing_videos.txt (default <root>/List_of_testing_videos.txt)');

function celebIdentity(v: VideoEntry): { target: string; identity: string } {
  const parts = v.name.split('_');
  // Celeb-synthesis id0_id16_0004: target id0, identity id16; Celeb-real id0_0000: id0; YouTube-real 00170.
  if (parts.length >= 3) return { target: parts[0]!, identity: parts[1]! };
  return { target: parts[0]!, identity: parts[0]! };
}

const celebSources = (): SourceDef[] => [
  { source: 'Celeb-real', label: 0, dirs: ['Celeb-real'] },
  { source: 'YouTube-real', label: 0, dirs: ['YouTube-real'] },
  { source: 'Celeb-synthesis', label: 1, dirs: ['Celeb-synthesis'] },
];

/**
 * `celeb-df-v2`: Celeb-DF v2 (Li et al. 2020).
 *
 * Layout (frames): `<root>/Celeb-real/id0_0000/`, `<root>/YouTube-real/00000/`, `<root>/Celeb-synthesis/id0_id1_0000/`,
 * and `<root>/List_of_testing_videos.txt` (or `test_list`).
 * Labels: Celeb-real and YouTube-real real (0), Celeb-synthesis fake (1). The test list's own flag is 1 = REAL,
 * 0 = fake (checked against the folders; a disagreement is an error).
 * Splits: test = the 518 listed videos; train = every other video; val is empty (no official one).
 * `id0_id1_0000`: target id0 (the video), identity id1 (the face swapped in).
 */
export const celebDfV2Dataset = defineCorpus({
  name: 'celeb-df-v2',
  dataset: 'Celeb-DF-v2',
  description: 'Celeb-DF v2: <root>/{Celeb-real,YouTube-real,Celeb-synthesis}/<video>; test = List_of_testing_videos.txt (1 = real there)',
  options: { test_list: testListOption },
  sources: celebSources,
  split: (ctx, split) => celebDfSplit(ctx, split, true),
  identity: celebIdentity,
});

/**
 * `celeb-df-v1`: Celeb-DF v1 (Li et al. 2019), the same layout and test-list format as v2
 * (`Celeb-real`, `YouTube-real`, `Celeb-synthesis`, `List_of_testing_videos.txt`).
 */
export const celebDfV1Dataset = defineCorpus({
  name: 'celeb-df-v1',
  dataset: 'Celeb-DF-v1',
  description: 'Celeb-DF v1: same layout and test list format as v2 (Celeb-real, YouTube-real, Celeb-synthesis)',
  options: { test_list: testListOption },
  sources: celebSources,
  split: (ctx, split) => celebDfSplit(ctx, split, true),
  identity: celebIdentity,
});

/**
 * `celeb-df-v3`: Celeb-DF++ ("v3", Li et al. 2025). UNSURE of the official layout: this assumes the v2 real folders
 * (`Celeb-real`, `YouTube-real`) and one folder per forgery method beside them: every folder under root is a
 * source, real when its name contains "real", else fake, and uses a v2-format `List_of_testing_videos.txt` when present (else every video is in test).
 * Its evaluation protocols (GF-eval, GFQ-eval, GFQC-eval) are not modelled; use `split_lists` for them.
 */
export const celebDfV3Dataset = defineCorpus({
  name: 'celeb-df-v3',
  dataset: 'Celeb-DF-v3',
  description: 'Celeb-DF++ (v3; layout assumed): Celeb-real, YouTube-real and one folder per method; optional v2-style test list',
  options: { test_list: testListOption },
  sources: () => [{ source: '(every folder)', label: labelFromSource, dirs: ['.'], sourceFromSubdir: true }],
  split: (ctx, split) => celebDfSplit(ctx, split, false),
  identity: celebIdentity,
});
