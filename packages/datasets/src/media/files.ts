/**
 * Finding media on disk: which files are images (decoded by sharp) and which are videos (decoded by ffmpeg),
 * folders walked recursively, and the "frame folder" view of a folder of images.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';

/** What sharp decodes (BMP is not among them). */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'tif', 'tiff', 'avif'] as const;
/** Containers ffmpeg reads that hold video. */
export const VIDEO_EXTENSIONS = ['mp4', 'avi', 'mov', 'mkv', 'webm', 'm4v', 'mpg', 'mpeg', 'wmv', 'flv', '3gp', 'ts', 'mts', 'm2ts', 'ogv'] as const;

export type MediaKind = 'image' | 'video';

export function mediaKind(path: string): MediaKind | undefined {
  const ext = extname(path).slice(1).toLowerCase();
  if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) return 'image';
  if ((VIDEO_EXTENSIONS as readonly string[]).includes(ext)) return 'video';
  return undefined;
}

export interface MediaProblem {
  path: string;
  reason: string;
}

/** Digit runs compare by value (frame 9 before frame 10); the rest by code unit. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const ta = a.match(re) ?? [];
  const tb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length || (a < b ? -1 : a > b ? 1 : 0);
}

export interface WalkResult {
  /** Media files, natural order. */
  files: { path: string; kind: MediaKind }[];
  /** Files skipped because their type is not supported (hidden files are ignored silently). */
  skipped: MediaProblem[];
}

/** Every image and video under `dir` (recursive; hidden entries skipped). */
export function walkMedia(dir: string): WalkResult {
  const files: WalkResult['files'] = [];
  const skipped: MediaProblem[] = [];
  const visit = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      skipped.push({ path: d, reason: `cannot read folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      return;
    }
    for (const e of entries.sort((a, b) => naturalCompare(a.name, b.name))) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = statSync(p).isDirectory();
        } catch {
          skipped.push({ path: p, reason: 'broken link' });
          continue;
        }
      }
      if (isDir) visit(p);
      else {
        const kind = mediaKind(p);
        if (kind) files.push({ path: p, kind });
        else skipped.push({ path: p, reason: `unsupported file type${extname(p) ? ` ${extname(p)}` : ''} (not an image or video)` });
      }
    }
  };
  visit(dir);
  return { files, skipped };
}

/**
 * One unit of work for `prepare`: a video file, or a folder of frame images (its images directly inside,
 * natural order). `name` is the output folder name: the path relative to the input root without the extension,
 * `/` replaced by `_` (a flat folder of videos gives the video stems, as DeepfakeBench names its frame folders).
 */
export interface MediaUnit {
  name: string;
  kind: 'video' | 'frames';
  path: string;
  /** For `frames`: the image files. */
  images?: string[];
}

export function mediaUnits(root: string): { units: MediaUnit[]; skipped: MediaProblem[] } {
  const abs = resolve(root);
  const { files, skipped } = walkMedia(abs);
  const units: MediaUnit[] = [];
  const folders = new Map<string, string[]>();
  const unitName = (p: string) => {
    const rel = relative(abs, p);
    return (rel === '' ? basename(abs) : rel).split(sep).join('_');
  };
  for (const f of files) {
    if (f.kind === 'video') units.push({ name: unitName(f.path.slice(0, f.path.length - extname(f.path).length)), kind: 'video', path: f.path });
    else {
      const dir = f.path.slice(0, f.path.length - basename(f.path).length - 1);
      folders.set(dir, [...(folders.get(dir) ?? []), f.path]);
    }
  }
  for (const [dir, images] of folders) units.push({ name: unitName(dir), kind: 'frames', path: dir, images });
  // two inputs with one name (a.mp4 and a.avi): keep the extension in the name
  const seen = new Map<string, number>();
  for (const u of units) seen.set(u.name, (seen.get(u.name) ?? 0) + 1);
  for (const u of units) if (seen.get(u.name)! > 1 && u.kind === 'video') u.name = `${u.name}_${extname(u.path).slice(1)}`;
  units.sort((a, b) => naturalCompare(a.name, b.name));
  return { units, skipped };
}
