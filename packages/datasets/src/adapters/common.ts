import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError, type DatasetAdapter, type FrameRecord, type Split } from '@dfdet/core';
import { numpyLegacyShuffle } from './mt19937.js';

export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** Image extensions every adapter indexes (matched case-insensitively). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'] as const;

/**
 * A frame record with what the paper's dataset also exposes: for a video named `A_B`,
 * `target` is A (the video whose face was replaced) and `identity` is B (the face put in);
 * a video without `_` has target = identity = its name. `frame` is the file name.
 */
export interface DeepfakeFrameRecord extends FrameRecord {
  target?: string;
  identity?: string;
  frame?: string;
}

/** What an index call found beside the records. */
export interface IndexReport {
  split: Split;
  frames: number;
  videos: number;
  /** Entries a label/split source named that are not on disk (skipped with `on_missing: skip`). */
  missing: number;
  /** Up to 10 of them, for messages. */
  missing_examples: string[];
  /** Other remarks (e.g. videos on disk that no label source mentions). */
  notes: string[];
}

export interface IndexResult {
  records: DeepfakeFrameRecord[];
  report: IndexReport;
}

/** Every adapter of this package: `index` plus the same with its report. */
export interface ReportingAdapter extends DatasetAdapter {
  index(split: Split): Promise<DeepfakeFrameRecord[]>;
  indexWithReport(split: Split): Promise<IndexResult>;
}

export function makeAdapter(name: string, run: (split: Split) => Promise<IndexResult>): ReportingAdapter {
  return {
    name,
    indexWithReport: run,
    index: async (split) => (await run(split)).records,
  };
}

/** The paper's label rule: a source folder whose name contains "real" (here case-insensitive) is real (0), else fake (1). */
export function labelFromSource(source: string): 0 | 1 {
  return /real/i.test(source) ? 0 : 1;
}

/** The paper's identity rule: `A_B` → target A, identity B; a name without `_` is both. */
export function parseIdentity(video: string): { target: string; identity: string } {
  const parts = video.split('_');
  if (parts.length >= 2) return { target: parts[0]!, identity: parts[1]! };
  return { target: video, identity: video };
}

/**
 * Deterministic, locale-independent order: runs of digits compare by value (frame 9 before frame 10),
 * everything else by UTF-16 code unit; ties broken by plain code-unit order.
 */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const ta = a.match(re) ?? [];
  const tb = b.match(re) ?? [];
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const sx = x.replace(/^0+/, '');
      const sy = y.replace(/^0+/, '');
      if (sx.length !== sy.length) return sx.length - sy.length;
      if (sx !== sy) return sx < sy ? -1 : 1;
      continue; // equal value, different zero padding: decided by the tie-break
    }
    return x < y ? -1 : 1;
  }
  if (ta.length !== tb.length) return ta.length - tb.length;
  return a === b ? 0 : a < b ? -1 : 1;
}

/** The order every adapter returns: by video id, then by frame path. */
export function compareRecords(a: FrameRecord, b: FrameRecord): number {
  return naturalCompare(a.video, b.video) || naturalCompare(a.path, b.path);
}

/**
 * `k` frames spaced uniformly over a video's sorted frames, like DeepfakeBench's
 * `np.linspace(0, n - 1, k, dtype=int)`; all frames when the video has no more than `k`.
 */
export function uniformSubset<T>(items: readonly T[], k: number | undefined): T[] {
  const n = items.length;
  if (k === undefined || n <= k) return [...items];
  if (k <= 0) return [];
  if (k === 1) return [items[0]!];
  const step = (n - 1) / (k - 1);
  const out: T[] = [];
  for (let i = 0; i < k; i++) {
    const idx = i === k - 1 ? n - 1 : Math.floor(i * step);
    out.push(items[idx]!);
  }
  return out;
}

/**
 * The paper's `limit_files`: whole videos in the order `np.random.RandomState(42).shuffle` puts the
 * sorted video folders in, until `limit` frames are reached, then cut to `limit`.
 * `videoKey` is the video folder path the order is computed on.
 */
export function limitFiles<T>(items: readonly T[], limit: number | undefined, videoKey: (item: T) => string, seed = 42): T[] {
  if (limit === undefined || items.length <= limit) return [...items];
  const byVideo = new Map<string, T[]>();
  for (const it of items) {
    const k = videoKey(it);
    let list = byVideo.get(k);
    if (!list) byVideo.set(k, (list = []));
    list.push(it);
  }
  const videos = [...byVideo.keys()].sort((a, b) => (a === b ? 0 : a < b ? -1 : 1));
  numpyLegacyShuffle(videos, seed);
  const out: T[] = [];
  for (const v of videos) {
    out.push(...byVideo.get(v)!);
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}

/** The options every video-folder adapter shares. */
export interface SelectionOptions {
  frames_per_video?: number;
  max_files?: number;
}

/** Applies `frames_per_video` per video, then `max_files`, and sorts. */
export function finalizeRecords<T extends FrameRecord>(records: T[], opts: SelectionOptions): T[] {
  const byVideo = new Map<string, T[]>();
  for (const r of records) {
    let list = byVideo.get(r.video);
    if (!list) byVideo.set(r.video, (list = []));
    list.push(r);
  }
  let out: T[] = [];
  for (const list of byVideo.values()) {
    list.sort((a, b) => naturalCompare(a.path, b.path));
    out.push(...uniformSubset(list, opts.frames_per_video));
  }
  out.sort((a, b) => (a.path === b.path ? 0 : a.path < b.path ? -1 : 1));
  out = limitFiles(out, opts.max_files, (r) => videoFolder(r.path));
  return out.sort(compareRecords);
}

/** `/a/b/video/frame.png` → `/a/b/video/` (with the trailing separator, as the paper's `get_video_path`). */
export function videoFolder(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(0, i + 1);
}

export function makeReport(split: Split, records: readonly FrameRecord[], missing: string[] = [], notes: string[] = []): IndexReport {
  return {
    split,
    frames: records.length,
    videos: new Set(records.map((r) => r.video)).size,
    missing: missing.length,
    missing_examples: missing.slice(0, 10),
    notes,
  };
}

/** A path given in options: absolute as is, else against `base`. */
export function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Throws for a missing entry or records it, per `on_missing`. */
export function handleMissing(mode: 'error' | 'skip', missing: string[], what: string, describe: (m: string) => string): void {
  if (missing.length === 0 || mode === 'skip') return;
  const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : '';
  throw new UserError(`${describe(missing[0]!)}${more}; ${what}; set on_missing: skip to index what is there`);
}

/** Compiles a glob over one path segment set (`*`, `?`, `[..]`, `{a,b}`, `**`) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
        if (glob[i + 1] === '/') i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      inBraces++;
      re += '(?:';
    } else if (c === '}' && inBraces > 0) {
      inBraces--;
      re += ')';
    } else if (c === ',' && inBraces > 0) re += '|';
    else re += c.replace(/[.+^$()|\\/]/g, '\\$&');
  }
  while (inBraces-- > 0) re += ')';
  return new RegExp(`^${re}$`);
}
