/**
 * `exp predict`: p(real) / p(fake) of a detector for images, videos and folders, per frame and per video
 * (mean over its frames), with the face pipeline in front (`faces: true`) or on ready face crops.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { tf, type DetectorModel } from '@dfdet/core';
import { clipTransformU8, decodeImageRgb, type U8Image } from '@dfdet/models';
import type { FaceExtractor } from '../faces/pipeline.js';
import { mediaKind, walkMedia, type MediaUnit } from '../media/files.js';
import type { FfmpegBinary } from '../media/ffmpeg.js';
import { imageError, openUnit } from '../media/frames.js';
import { MediaError } from '../media/video.js';

export interface FramePrediction {
  /** `image`: a still image; `frame`: a frame of a video or of a frame folder. */
  level: 'image' | 'frame';
  /** The image file, or the video / frame folder. */
  path: string;
  /** Frame index in the video (frame folders: its position in natural order). */
  frame?: number;
  /** The frame image file, for frame folders. */
  file?: string;
  /** Face index in the frame (0 = largest) when faces are detected. */
  face?: number;
  /** Detector score of that face. */
  face_score?: number;
  p_real: number;
  p_fake: number;
}

export interface VideoPrediction {
  path: string;
  kind: 'video' | 'frames';
  /** Predictions averaged (frames × faces). */
  n: number;
  /** Frames read. */
  frames: number;
  /** Frames where no face was found (their indices). */
  no_face: number[];
  p_real: number;
  p_fake: number;
}

export interface PredictProblem {
  path: string;
  frame?: number;
  reason: string;
}

export interface PredictResult {
  frames: FramePrediction[];
  videos: VideoPrediction[];
  problems: PredictProblem[];
}

export interface PredictOptions {
  model: DetectorModel;
  inputs: string[];
  /** Detect and align faces first (undefined = inputs are face crops already). */
  extractor?: FaceExtractor;
  /** Frames per video, uniformly spaced. */
  frames: number;
  /** Treat each folder of images found in a directory input as one video's frames. */
  frameDirs?: boolean;
  batchSize?: number;
  ffmpeg?: FfmpegBinary;
  onFrame?: (r: FramePrediction) => void;
  onVideo?: (v: VideoPrediction) => void;
  onProblem?: (p: PredictProblem) => void;
}

type Item = { kind: 'image'; path: string } | { kind: 'unit'; unit: MediaUnit };

/** What the inputs name: image files, videos, folders (walked), in the given order. Problems are reported, not thrown. */
export function collectItems(inputs: string[], frameDirs: boolean, problem: (p: PredictProblem) => void): Item[] {
  const items: Item[] = [];
  for (const raw of inputs) {
    // paths are reported as given (relative ones stay relative), like the paper's script prints them
    const path = raw;
    if (!existsSync(resolve(path))) {
      problem({ path: raw, reason: 'not found' });
      continue;
    }
    if (statSync(resolve(path)).isDirectory()) {
      const w = walkMedia(path);
      w.skipped.forEach(problem);
      const folders = new Map<string, string[]>();
      for (const f of w.files) {
        if (f.kind === 'video') items.push({ kind: 'unit', unit: { name: basename(f.path), kind: 'video', path: f.path } });
        else if (!frameDirs) items.push({ kind: 'image', path: f.path });
        else {
          const d = dirname(f.path);
          if (!folders.has(d)) {
            folders.set(d, []);
            items.push({ kind: 'unit', unit: { name: basename(d), kind: 'frames', path: d, images: folders.get(d) } });
          }
          folders.get(d)!.push(f.path);
        }
      }
      if (w.files.length === 0 && w.skipped.length === 0) problem({ path: raw, reason: 'no images or videos in this folder' });
      continue;
    }
    const kind = mediaKind(path);
    if (kind === 'image') items.push({ kind: 'image', path });
    else if (kind === 'video') items.push({ kind: 'unit', unit: { name: basename(path), kind: 'video', path } });
    else {
      const ext = /\.[^./]+$/.exec(path)?.[0];
      problem({ path: raw, reason: `unsupported file type${ext ? ` ${ext}` : ''} (not an image or video)` });
    }
  }
  return items;
}

/** Runs the model on RGB images: the backbone's own preprocessing (HF CLIP processor) on the pixels, no re-encoding. */
export async function predictImages(model: DetectorModel, images: U8Image[], batchSize = 16): Promise<number[]> {
  const pre = model.backbone.preprocessing;
  const out: number[] = [];
  for (let i = 0; i < images.length; i += batchSize) {
    const xs = images.slice(i, i + batchSize).map((img) => clipTransformU8(img, pre));
    // images of one batch share a size (center crop / fixed size); otherwise run them one by one
    const groups: (typeof xs)[] = [];
    for (const x of xs) {
      const g = groups[groups.length - 1];
      if (g && g[0]!.shape[1] === x.shape[1] && g[0]!.shape[2] === x.shape[2]) g.push(x);
      else groups.push([x]);
    }
    for (const g of groups) {
      const [, H, W] = g[0]!.shape;
      const data = new Float32Array(g.length * 3 * H * W);
      g.forEach((x, k) => data.set(x.data, k * 3 * H * W));
      const pixels = tf.tensor4d(data, [g.length, 3, H, W]);
      try {
        const p = model.predictFake(pixels);
        try {
          out.push(...(await p.data()));
        } finally {
          p.dispose();
        }
      } finally {
        pixels.dispose();
      }
    }
  }
  return out;
}

const row = (p_fake: number) => ({ p_real: 1 - p_fake, p_fake });

const NO_FACE = 'no face found (inputs that are face crops already: --faces off)';

export async function predictMedia(opts: PredictOptions): Promise<PredictResult> {
  const result: PredictResult = { frames: [], videos: [], problems: [] };
  const problem = (p: PredictProblem) => {
    result.problems.push(p);
    opts.onProblem?.(p);
  };
  const batchSize = opts.batchSize ?? 16;
  // pending crops → predictions, flushed in order
  let queue: { rec: Omit<FramePrediction, 'p_real' | 'p_fake'>; image: U8Image; into?: FramePrediction[] }[] = [];
  const flush = async () => {
    if (!queue.length) return;
    const batch = queue;
    queue = [];
    const ps = await predictImages(opts.model, batch.map((q) => q.image), batchSize);
    batch.forEach((q, i) => {
      const r: FramePrediction = { ...q.rec, ...row(ps[i]!) };
      result.frames.push(r);
      q.into?.push(r);
      opts.onFrame?.(r);
    });
  };
  /** Faces of one frame (or the frame itself without face detection); false when no face was found. */
  const enqueue = async (img: U8Image, rec: Omit<FramePrediction, 'p_real' | 'p_fake'>, into?: FramePrediction[]): Promise<boolean> => {
    if (!opts.extractor) queue.push({ rec, image: img, into });
    else {
      const faces = await opts.extractor.extract(img);
      if (faces.length === 0) return false;
      for (const f of faces) queue.push({ rec: { ...rec, face: f.index, face_score: f.score }, image: f.image, into });
    }
    if (queue.length >= batchSize) await flush();
    return true;
  };

  for (const item of collectItems(opts.inputs, opts.frameDirs ?? false, problem)) {
    if (item.kind === 'image') {
      let img: U8Image;
      try {
        // face detection sees photos upright (EXIF orientation); face crops are read as stored, like the paper's script
        img = await decodeImageRgb(item.path, { applyExifOrientation: opts.extractor !== undefined });
      } catch (e) {
        problem({ path: item.path, reason: `cannot decode: ${imageError(e)}` });
        continue;
      }
      if (!(await enqueue(img, { level: 'image', path: item.path }))) problem({ path: item.path, reason: NO_FACE });
      continue;
    }
    const { unit } = item;
    const got: FramePrediction[] = [];
    const noFace: number[] = [];
    let read = 0;
    try {
      const src = await openUnit(unit, opts.frames, { ffmpeg: opts.ffmpeg, exifOrientation: opts.extractor !== undefined });
      for await (const fr of src.frames) {
        if (!fr.image) {
          problem({ path: fr.path ?? unit.path, frame: fr.index, reason: `cannot decode: ${fr.error}` });
          continue;
        }
        read++;
        const rec = { level: 'frame' as const, path: unit.path, frame: fr.index, ...(fr.path ? { file: fr.path } : {}) };
        if (!(await enqueue(fr.image, rec, got))) noFace.push(fr.index);
      }
      await flush();
    } catch (err) {
      if (!(err instanceof MediaError)) throw err;
      await flush();
      problem({ path: unit.path, reason: err.reason });
      if (read === 0) continue;
    }
    if (got.length === 0) {
      if (read > 0) problem({ path: unit.path, reason: `no face found in any of its ${read} frames (face crops already: --faces off)` });
      else problem({ path: unit.path, reason: 'no frames could be read' });
      continue;
    }
    const p_fake = got.reduce((s, r) => s + r.p_fake, 0) / got.length;
    const v: VideoPrediction = { path: unit.path, kind: unit.kind, n: got.length, frames: read, no_face: noFace, ...row(p_fake) };
    result.videos.push(v);
    opts.onVideo?.(v);
  }
  await flush();
  return result;
}

// ---------------------------------------------------------------------------------------------- output

const f4 = (x: number) => x.toFixed(4);

/** The paper's inference.py line: `p(real) = 0.8105, p(fake) = 0.1895, image: <path>`; frames and videos alike. */
export function formatFrame(r: FramePrediction): string {
  const face = r.face !== undefined ? ` (face ${r.face})` : '';
  const what = r.level === 'image' ? `image: ${r.path}` : r.file ? `image: ${r.file}` : `frame: ${r.path} #${r.frame}`;
  return `p(real) = ${f4(r.p_real)}, p(fake) = ${f4(r.p_fake)}, ${what}${face}`;
}

export function formatVideo(v: VideoPrediction): string {
  const extra = v.no_face.length ? `, no face in ${v.no_face.length}` : '';
  return `p(real) = ${f4(v.p_real)}, p(fake) = ${f4(v.p_fake)}, video: ${v.path} (mean of ${v.n} over ${v.frames} frames${extra})`;
}

const csvCell = (v: unknown) => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

export const CSV_COLUMNS = ['level', 'path', 'frame', 'file', 'face', 'face_score', 'n', 'p_real', 'p_fake'] as const;

/** One row per image / frame / face, then one per video (`level` = image | frame | video). */
export function predictionsCsv(r: PredictResult): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const f of r.frames) lines.push([f.level, f.path, f.frame, f.file, f.face, f.face_score, '', f.p_real, f.p_fake].map(csvCell).join(','));
  for (const v of r.videos) lines.push(['video', v.path, '', '', '', '', v.n, v.p_real, v.p_fake].map(csvCell).join(','));
  return `${lines.join('\n')}\n`;
}
