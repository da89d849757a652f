import { join, resolve } from 'node:path';
import fg from 'fast-glob';
import type { Split } from '@dfdet/core';
import { IMAGE_EXTENSIONS, isDir, naturalCompare } from './common.js';

const EXT = `{${IMAGE_EXTENSIONS.join(',')}}`;

/** One source folder of a corpus: where its videos are, and what they are. */
export interface SourceDef {
  /** Source name in the records (with `sourceFromSubdir`, used when naming the folder in messages). */
  source: string;
  /** Label of its videos; a function gets the source name (for `sourceFromSubdir`). */
  label: 0 | 1 | ((source: string) => 0 | 1);
  /** Candidate folders relative to root, first existing wins. */
  dirs: string[];
  /** Frames at `<dir>/<video>/<frame>` (1, default) or `<dir>/<any folders>/<frame>` ('any'). */
  depth?: 1 | 'any';
  /** The first folder below `dir` names the source (a method); the video is below it. */
  sourceFromSubdir?: boolean;
  /** Splits this folder holds, when the corpus's folders carry the split. */
  splits?: Split[];
  /** An absent folder is not an error. */
  optional?: boolean;
}

export interface VideoEntry {
  source: string;
  label: 0 | 1;
  /** Video folder relative to its source folder, posix (`000_003`, `African/men/id00076/00109`). */
  name: string;
  /** `<source>/<name>`: the record's video id. */
  id: string;
  /** Absolute video folder. */
  dir: string;
  /** Absolute frame paths, natural order. */
  frames: string[];
  splits?: Split[];
}

export interface ScanResult {
  videos: VideoEntry[];
  /** Defs whose folders were found, with the folder used. */
  found: { def: SourceDef; dir: string }[];
  /** Defs none of whose folders exist. */
  absent: SourceDef[];
}

/** The first of `dirs` (relative to root, or absolute) that is a folder. */
export function firstDir(root: string, dirs: string[]): string | undefined {
  for (const d of dirs) {
    const p = resolve(root, d);
    if (isDir(p)) return p;
  }
  return undefined;
}

/** Lists the image files below one source folder, grouped by video folder. */
export async function scanSource(dir: string, def: SourceDef): Promise<VideoEntry[]> {
  const depth = def.depth ?? 1;
  const pattern = depth === 1 ? (def.sourceFromSubdir ? `*/*/*.${EXT}` : `*/*.${EXT}`) : def.sourceFromSubdir ? `*/*/**/*.${EXT}` : `*/**/*.${EXT}`;
  const files = await fg(pattern, { cwd: dir, onlyFiles: true, caseSensitiveMatch: false, followSymbolicLinks: true, dot: false, unique: true });
  const byVideo = new Map<string, VideoEntry>();
  for (const rel of files) {
    const parts = rel.split('/');
    let source = def.source;
    let videoParts = parts.slice(0, -1);
    if (def.sourceFromSubdir) {
      source = parts[0]!;
      videoParts = parts.slice(1, -1);
    }
    if (videoParts.length === 0) continue;
    const name = videoParts.join('/');
    const key = `${source}/${name}`;
    let v = byVideo.get(key);
    if (!v) {
      const label = typeof def.label === 'function' ? def.label(source) : def.label;
      const videoDir = join(dir, ...parts.slice(0, -1));
      v = { source, label, name, id: key, dir: videoDir, frames: [], ...(def.splits ? { splits: def.splits } : {}) };
      byVideo.set(key, v);
    }
    v.frames.push(join(dir, ...parts));
  }
  const out = [...byVideo.values()];
  for (const v of out) v.frames.sort(naturalCompare);
  return out.sort((a, b) => naturalCompare(a.id, b.id));
}

/** Scans every def's first existing folder. */
export async function scanSources(root: string, defs: SourceDef[]): Promise<ScanResult> {
  const found: ScanResult['found'] = [];
  const absent: SourceDef[] = [];
  const videos: VideoEntry[] = [];
  for (const def of defs) {
    const dir = firstDir(root, def.dirs);
    if (!dir) {
      absent.push(def);
      continue;
    }
    found.push({ def, dir });
    videos.push(...(await scanSource(dir, def)));
  }
  return { videos, found, absent };
}

/** Folder names (not files) directly inside `dir`, sorted; [] when it is not a folder. */
export async function subfolders(dir: string): Promise<string[]> {
  if (!isDir(dir)) return [];
  const names = await fg('*', { cwd: dir, onlyDirectories: true, dot: false, followSymbolicLinks: true });
  return names.sort(naturalCompare);
}
