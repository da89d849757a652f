import { join } from 'node:path';
import fg from 'fast-glob';
import { UserError, z, type Split } from '@dfdet/core';
import { isFile, naturalCompare, resolveFrom } from '../common.js';
import { defineCorpus, readJsonFile, type SplitSelection } from '../corpus.js';
import { readListFile } from '../list-file.js';
import type { VideoEntry } from '../tree.js';

const VIDEO_EXT = /\.(mp4|avi|mov|mkv)$/i;

/** Reads DFDC's `labels.csv` (`filename,label`, label 1 = fake, 0 = real) into video stem → label. */
export function readDfdcLabelsCsv(file: string): Map<string, 0 | 1> {
  const lines = readListFile(file, undefined, 'DFDC labels.csv');
  const out = new Map<string, 0 | 1>();
  if (lines.length === 0) throw new UserError(`DFDC labels.csv ${file} is empty`);
  const header = lines[0]!.text.split(',').map((h) => h.trim().toLowerCase());
  const fi = header.indexOf('filename');
  const li = header.indexOf('label');
  if (fi < 0 || li < 0) throw new UserError(`${file}:${lines[0]!.line}: expected a header with "filename" and "label" columns, got "${lines[0]!.text.slice(0, 80)}"`);
  for (const { line, text } of lines.slice(1)) {
    const cols = text.split(',').map((c) => c.trim());
    const name = cols[fi];
    const label = cols[li];
    if (!name || (label !== '0' && label !== '1' && label !== '0.0' && label !== '1.0')) {
      throw new UserError(`${file}:${line}: expected "<video>.mp4,<0|1>", got "${text.slice(0, 80)}"`);
    }
    out.set(name.replace(VIDEO_EXT, ''), label.startsWith('1') ? 1 : 0);
  }
  return out;
}

/** Reads a DFDC training part's `metadata.json` (`{"x.mp4": {"label": "FAKE"|"REAL", "split": "train", ...}}`). */
export function readDfdcMetadata(file: string): Map<string, 0 | 1> {
  const data = readJsonFile(file, 'DFDC metadata.json', 256 * 1024 * 1024);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UserError(`DFDC metadata ${file}: expected an object keyed by video file name`);
  const out = new Map<string, 0 | 1>();
  for (const [name, meta] of Object.entries(data as Record<string, unknown>)) {
    const label = (meta as { label?: unknown } | null)?.label;
    if (label !== 'FAKE' && label !== 'REAL') throw new UserError(`DFDC metadata ${file}: "${name}".label is ${JSON.stringify(label)}, expected "FAKE" or "REAL"`);
    out.set(name.replace(VIDEO_EXT, ''), label === 'FAKE' ? 1 : 0);
  }
  return out;
}

function lastSegment(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Videos on disk whose folder name has a label in `labels`; labelled ones absent on disk are missing. */
function selectByStem(videos: VideoEntry[], labels: Map<string, 0 | 1>, where: string): SplitSelection {
  const byStem = new Map<string, VideoEntry>();
  for (const v of videos) {
    const stem = lastSegment(v.name);
    const prior = byStem.get(stem);
    if (prior && labels.has(stem)) throw new UserError(`dfdc: video ${stem} has frames in two folders, ${prior.dir} and ${v.dir}`);
    byStem.set(stem, v);
  }
  const chosen: VideoEntry[] = [];
  const missing: string[] = [];
  for (const [stem, label] of [...labels].sort((a, b) => naturalCompare(a[0], b[0]))) {
    const v = byStem.get(stem);
    if (!v) {
      missing.push(`${where}: ${stem}`);
      continue;
    }
    const source = label === 0 ? 'real' : 'fake';
    chosen.push({ ...v, source, label, id: `${source}/${stem}` });
  }
  return { videos: chosen, missing };
}

/**
 * `dfdc`: the DeepFake Detection Challenge dataset (Dolhansky et al. 2020), full version.
 *
 * Layout (frames): each video's frames in a folder named after the video file without `.mp4`, anywhere under root
 * (e.g. `<root>/test/frames/aalscayrfi/000.png`, `<root>/dfdc_train_part_0/abqwwspghj/000.png`); video names are
 * unique across the corpus.
 * Labels and splits: test = the videos in the test set's `labels.csv` (`filename,label`, 1 = fake); train = the videos
 * of the training parts' `metadata.json` files (`label`: "FAKE"/"REAL"); val = `val_labels_csv` if given (same format as
 * labels.csv), else empty. Sources are `real` / `fake` (DFDC does not name the method per video).
 */
export const dfdcDataset = defineCorpus({
  name: 'dfdc',
  dataset: 'DFDC',
  description: 'DFDC: frame folders named after the videos anywhere under root; test labels from labels.csv (1 = fake), train from metadata.json',
  options: {
    labels_csv: z.string().optional().describe('test labels.csv (default <root>/labels.csv, else <root>/test/labels.csv)'),
    val_labels_csv: z.string().optional().describe('validation labels in the labels.csv format'),
    metadata: z.array(z.string()).optional().describe('training metadata.json files (default every metadata.json up to 2 folders below root)'),
  },
  sources: () => [{ source: 'dfdc', label: 1, dirs: ['.'], depth: 'any' }],
  identity: (v) => ({ target: lastSegment(v.name), identity: lastSegment(v.name) }),
  split: async ({ o, root, scan }, split: Split) => {
    if (split === 'test') {
      const candidates = o.labels_csv ? [resolveFrom(process.cwd(), o.labels_csv)] : [join(root, 'labels.csv'), join(root, 'test', 'labels.csv')];
      const file = candidates.find(isFile);
      if (!file) throw new UserError(`dfdc: test labels not found (looked at ${candidates.join(', ')}); set labels_csv`);
      return selectByStem(scan.videos, readDfdcLabelsCsv(file), file);
    }
    if (split === 'val') {
      if (!o.val_labels_csv) return { videos: [], missing: [], notes: ['no val_labels_csv: val is empty'] };
      const file = resolveFrom(process.cwd(), o.val_labels_csv);
      return selectByStem(scan.videos, readDfdcLabelsCsv(file), file);
    }
    const files = o.metadata
      ? o.metadata.map((m) => resolveFrom(process.cwd(), m))
      : (await fg(['metadata.json', '*/metadata.json', '*/*/metadata.json'], { cwd: root, absolute: true, onlyFiles: true })).sort(naturalCompare);
    if (files.length === 0) throw new UserError(`dfdc: no training metadata.json under ${root}; set metadata`);
    const labels = new Map<string, 0 | 1>();
    for (const f of files) for (const [k, v] of readDfdcMetadata(f)) labels.set(k, v);
    return selectByStem(scan.videos, labels, 'metadata.json');
  },
});

/**
 * `dfdc-preview`: the DFDC preview dataset (Dolhansky et al. 2019). PARTLY UNSURE of the layout: this assumes the
 * release's `dataset.json` maps each video path (`method_A/<id>/<id>_A/<clip>.mp4`, `original_videos/<id>/<clip>.mp4`)
 * to `{"label": "real"|"fake", "set": "train"|"test"}`, and that frames are in `<root>/<that path without .mp4>/`.
 * Splits from `set` (no val). Sources: `real`, else the first folder of the path (`method_A`, `method_B`).
 */
export const dfdcPreviewDataset = defineCorpus({
  name: 'dfdc-preview',
  dataset: 'DFDC-P',
  description: 'DFDC preview: dataset.json maps video paths to label (real/fake) and set (train/test); frames in <root>/<path without .mp4>/',
  options: {
    dataset_json: z.string().optional().describe('the release dataset.json (default <root>/dataset.json)'),
  },
  sources: () => [{ source: 'dfdc-preview', label: 1, dirs: ['.'], depth: 'any' }],
  split: ({ o, root, scan }, split) => {
    const file = o.dataset_json ? resolveFrom(process.cwd(), o.dataset_json) : join(root, 'dataset.json');
    const data = readJsonFile(file, 'DFDC preview dataset.json', 256 * 1024 * 1024);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UserError(`${file}: expected an object keyed by video path`);
    const byName = new Map(scan.videos.map((v) => [v.name, v]));
    const chosen: VideoEntry[] = [];
    const missing: string[] = [];
    for (const [key, meta] of Object.entries(data as Record<string, unknown>).sort((a, b) => naturalCompare(a[0], b[0]))) {
      const m = meta as { label?: unknown; set?: unknown } | null;
      if (m?.label !== 'real' && m?.label !== 'fake') throw new UserError(`${file}: "${key}".label is ${JSON.stringify(m?.label)}, expected "real" or "fake"`);
      if (m.set !== 'train' && m.set !== 'test') throw new UserError(`${file}: "${key}".set is ${JSON.stringify(m.set)}, expected "train" or "test"`);
      if (m.set !== split) continue;
      const name = key.replace(/\\/g, '/').replace(VIDEO_EXT, '');
      const v = byName.get(name);
      if (!v) {
        missing.push(`${file}: ${key}`);
        continue;
      }
      const label = m.label === 'real' ? 0 : 1;
      const source = label === 0 ? 'real' : name.split('/')[0]!;
      chosen.push({ ...v, label, source, id: name });
    }
    return { videos: chosen, missing };
  },
  identity: (v) => {
    const parts = v.name.split('/');
    const id = parts[1] ?? lastSegment(v.name);
    return { target: id, identity: id };
  },
});
