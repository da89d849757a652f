import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic, type FrameRecord, type Split } from '@dfdet/core';
import { compareRecords } from './common.js';
import { recordFromPath, type ListEntry } from './file-list.js';

export interface CountPair {
  frames: number;
  videos: number;
}

export interface IndexStats extends CountPair {
  by_label: { real: CountPair; fake: CountPair };
  by_source: Record<string, CountPair & { label: 0 | 1 }>;
  by_dataset: Record<string, CountPair>;
}

/** Frame and video counts overall, per label, per source and per dataset. */
export function stats(records: readonly FrameRecord[]): IndexStats {
  const videos = new Set<string>();
  const label = { real: { frames: 0, v: new Set<string>() }, fake: { frames: 0, v: new Set<string>() } };
  const source = new Map<string, { frames: number; v: Set<string>; label: 0 | 1 }>();
  const dataset = new Map<string, { frames: number; v: Set<string> }>();
  for (const r of records) {
    const vid = `${r.dataset}\u0000${r.video}`;
    videos.add(vid);
    const l = r.label === 0 ? label.real : label.fake;
    l.frames++;
    l.v.add(vid);
    let s = source.get(r.source);
    if (!s) source.set(r.source, (s = { frames: 0, v: new Set(), label: r.label }));
    s.frames++;
    s.v.add(vid);
    let d = dataset.get(r.dataset);
    if (!d) dataset.set(r.dataset, (d = { frames: 0, v: new Set() }));
    d.frames++;
    d.v.add(vid);
  }
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    frames: records.length,
    videos: videos.size,
    by_label: { real: { frames: label.real.frames, videos: label.real.v.size }, fake: { frames: label.fake.frames, videos: label.fake.v.size } },
    by_source: Object.fromEntries(sorted(source).map(([k, s]) => [k, { label: s.label, frames: s.frames, videos: s.v.size }])),
    by_dataset: Object.fromEntries(sorted(dataset).map(([k, d]) => [k, { frames: d.frames, videos: d.v.size }])),
  };
}

export interface WriteListsOptions {
  /** Folder of all datasets' lists (`config/datasets`). */
  out: string;
  /** Folder name of this dataset under `out`. */
  dataset: string;
  split: Split;
  records: readonly FrameRecord[];
  /** Write paths relative to this folder when they are inside it (the paper's lists are relative to the project root); default absolute. */
  relative_to?: string;
  /** Also write `<split>/<source>.txt` per source, as the paper's `config/datasets/FF/test/DF.txt` (default true). */
  per_source?: boolean;
}

export interface WrittenLists {
  /** Files written (absolute). */
  files: string[];
  /**
   * `file-list` entries that index exactly these records: the per-source files, each with `label`/`source` set where
   * the folder-name rule would get them wrong; just `<split>.txt` when the rule is right everywhere.
   */
  lists: ListEntry[];
  /** Records whose label or source the folder-name rule of `file-list` would get wrong from the path alone. */
  rule_mismatches: number;
}

function listPath(path: string, base: string | undefined): string {
  if (base === undefined) return path;
  const rel = relative(base, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return path;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

function safeFileName(s: string): string {
  const t = s.replace(/[^\w.+-]+/g, '_').replace(/^\.+/, '_');
  return t === '' ? '_' : t.slice(0, 120);
}

/**
 * Writes the list files of one split: `<out>/<dataset>/<split>.txt` (every frame) and, by default,
 * `<out>/<dataset>/<split>/<source>.txt`, one frame path a line, sorted by video then frame. Atomic per file.
 * Nothing is written for a split without records.
 */
export function writeListFiles(opts: WriteListsOptions): WrittenLists {
  const records = [...opts.records].sort(compareRecords);
  if (records.length === 0) return { files: [], lists: [], rule_mismatches: 0 };
  const base = opts.relative_to === undefined ? undefined : resolve(opts.relative_to);
  const dir = resolve(opts.out, safeFileName(opts.dataset));
  const files: string[] = [];
  const lineOf = (r: FrameRecord) => listPath(r.path, base);
  const all = join(dir, `${opts.split}.txt`);
  writeFileAtomic(all, `${records.map(lineOf).join('\n')}\n`);
  files.push(all);

  // one file per source (per source and label, in the odd case of a source holding both)
  const bySource = new Map<string, FrameRecord[]>();
  const labelsOf = new Map<string, Set<number>>();
  for (const r of records) labelsOf.set(r.source, (labelsOf.get(r.source) ?? new Set()).add(r.label));
  for (const r of records) {
    const key = labelsOf.get(r.source)!.size > 1 ? `${r.source}_${r.label === 0 ? 'real' : 'fake'}` : r.source;
    let l = bySource.get(key);
    if (!l) bySource.set(key, (l = []));
    l.push(r);
  }
  let mismatches = 0;
  const perSource: ListEntry[] = [];
  const used = new Set<string>();
  for (const [key, list] of bySource) {
    const source = list[0]!.source;
    let labelWrong = false;
    let sourceWrong = false;
    for (const r of list) {
      const guess = recordFromPath(r.path);
      const bad = !guess || guess.label !== r.label || guess.source !== r.source;
      if (bad) mismatches++;
      if (!guess || guess.label !== r.label) labelWrong = true;
      if (!guess || guess.source !== r.source) sourceWrong = true;
    }
    let name = safeFileName(key);
    for (let i = 2; used.has(name); i++) name = `${safeFileName(key)}_${i}`;
    used.add(name);
    const file = join(dir, opts.split, `${name}.txt`);
    const entryFile = listPath(file, base);
    if (opts.per_source ?? true) {
      writeFileAtomic(file, `${list.map(lineOf).join('\n')}\n`);
      files.push(file);
    }
    perSource.push(
      labelWrong || sourceWrong
        ? { file: entryFile, ...(labelWrong ? { label: list[0]!.label } : {}), ...(sourceWrong ? { source } : {}) }
        : entryFile,
    );
  }
  const lists: ListEntry[] = mismatches === 0 || !(opts.per_source ?? true) ? [listPath(all, base)] : perSource;
  return { files, lists, rule_mismatches: mismatches };
}
