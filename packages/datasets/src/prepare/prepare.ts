/**
 * `exp data prepare`: videos (or folders of frames) → DeepfakeBench-style aligned face crops,
 * `<out>/<video>/<frame>.png`, resumable, with a per-video summary of faces found and missing.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import sharp from 'sharp';
import { UserError, writeFileAtomic, writeJsonAtomic } from '@dfdet/core';
import type { U8Image } from '@dfdet/models';
import { FaceExtractor, type FaceExtractorConfig } from '../faces/pipeline.js';
import { mediaUnits, type MediaProblem, type MediaUnit } from '../media/files.js';
import { resolveFfmpeg } from '../media/ffmpeg.js';
import { openUnit } from '../media/frames.js';
import { MediaError } from '../media/video.js';
import { ProgressLine, bar } from './progress.js';

export const DONE_FILE = '.done';
export const SUMMARY_FILE = 'summary.json';

export interface PrepareOptions {
  /** A folder of videos and/or folders of frame images (searched recursively). */
  input: string;
  /** The output source folder: `datasets/<name>/<source>`. */
  out: string;
  /** Uniformly spaced frames per video (DeepfakeBench's num_frames). */
  frames: number;
  faces: FaceExtractorConfig;
  /** ffmpeg binary (default: resolveFfmpeg()). */
  ffmpeg?: string;
  /** Redo videos already marked done. */
  force?: boolean;
  /** A ready extractor (tests, or a caller that prepares several sources); otherwise one is made from `faces`. */
  extractor?: FaceExtractor;
  /** Where progress lines go (default: stderr). */
  progress?: ProgressLine;
}

export interface VideoSummary {
  name: string;
  source: string;
  kind: MediaUnit['kind'];
  status: 'done' | 'failed';
  /** True when this run skipped it because an earlier run finished it. */
  resumed?: boolean;
  /** Frames in the video (or images in the folder). */
  frame_count?: number;
  frame_count_exact?: boolean;
  /** Frames read (sampled and decoded). */
  frames: number;
  /** Frames with at least one face. */
  with_face: number;
  /** Frames without a face (their output names). */
  missing: string[];
  /** Frames that could not be decoded, with the reason. */
  unreadable: { frame: string; reason: string }[];
  /** Crop files written. */
  crops: number;
  error?: string;
  seconds?: number;
  /** The options it was made with (a resumed video made with others is reported). */
  options?: { frames: number; size: number; scale: number; keypoints: string; select: string; detector: string };
}

export interface PrepareSummary {
  input: string;
  out: string;
  options: NonNullable<VideoSummary['options']>;
  videos: VideoSummary[];
  totals: { videos: number; done: number; resumed: number; failed: number; frames: number; with_face: number; missing: number; crops: number };
  /** Files under the input that are neither images nor videos. */
  skipped_files: MediaProblem[];
}

/** Files an earlier, unfinished attempt at a video may have left (the output folder is ours). */
const CROP_NAME = /^[^.].*\.png$/;

export async function encodePng(img: U8Image): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: (img.channels ?? 3) as 3 },
  })
    .png()
    .toBuffer();
}

function totals(videos: VideoSummary[]): PrepareSummary['totals'] {
  return {
    videos: videos.length,
    done: videos.filter((v) => v.status === 'done').length,
    resumed: videos.filter((v) => v.resumed).length,
    failed: videos.filter((v) => v.status === 'failed').length,
    frames: videos.reduce((s, v) => s + v.frames, 0),
    with_face: videos.reduce((s, v) => s + v.with_face, 0),
    missing: videos.reduce((s, v) => s + v.missing.length, 0),
    crops: videos.reduce((s, v) => s + v.crops, 0),
  };
}

/** Processes every unit under `input`; returns (and writes to `<out>/summary.json`) the summary. */
export async function prepareDataset(opts: PrepareOptions): Promise<PrepareSummary> {
  const input = resolve(opts.input);
  const out = resolve(opts.out);
  if (!existsSync(input)) throw new UserError(`--input: ${input} does not exist`);
  if (out === input || out.startsWith(input + sep)) throw new UserError(`--out (${out}) must not be inside --input (${input})`);
  const { units, skipped } = mediaUnits(input);
  if (units.length === 0) throw new UserError(`--input: no videos or images found under ${input}`);
  const progress = opts.progress ?? new ProgressLine();
  const ffmpeg = resolveFfmpeg(opts.ffmpeg);
  const extractor = opts.extractor ?? (await FaceExtractor.create(opts.faces));
  const options: PrepareSummary['options'] = {
    frames: opts.frames,
    size: extractor.align.size,
    scale: extractor.align.scale,
    keypoints: extractor.align.keypoints,
    select: extractor.select,
    detector: extractor.detector.name,
  };
  mkdirSync(out, { recursive: true });
  const videos: VideoSummary[] = [];
  const writeSummary = () => {
    const summary: PrepareSummary = { input, out, options, videos, totals: totals(videos), skipped_files: skipped };
    writeJsonAtomic(join(out, SUMMARY_FILE), summary);
    return summary;
  };
  for (const p of skipped) progress.log(`skipped ${p.path}: ${p.reason}`);
  try {
    for (const [u, unit] of units.entries()) {
      const dir = join(out, unit.name);
      const head = `${bar(u, units.length)} ${unit.name}`;
      const doneFile = join(dir, DONE_FILE);
      if (!opts.force && existsSync(doneFile)) {
        const prior = readDone(doneFile);
        if (prior) {
          const differs = prior.options && JSON.stringify(prior.options) !== JSON.stringify(options);
          progress.log(`${unit.name}: done earlier, skipped${differs ? ` (made with other options: ${JSON.stringify(prior.options)}; --force redoes it)` : ''}`);
          videos.push({ ...prior, resumed: true });
          writeSummary();
          continue;
        }
      }
      const t0 = Date.now();
      const v: VideoSummary = { name: unit.name, source: unit.path, kind: unit.kind, status: 'done', frames: 0, with_face: 0, missing: [], unreadable: [], crops: 0, options };
      try {
        mkdirSync(dir, { recursive: true });
        // an unfinished earlier attempt: drop its crops (only files named like ours)
        for (const f of readdirSync(dir)) if (CROP_NAME.test(f)) rmSync(join(dir, f));
        const src = await openUnit(unit, opts.frames, { ffmpeg, exifOrientation: true });
        v.frame_count = src.total;
        v.frame_count_exact = src.exact;
        for await (const frame of src.frames) {
          progress.update(`${head}: frame ${v.frames + v.unreadable.length + 1}/${src.indices.length}`);
          if (!frame.image) {
            v.unreadable.push({ frame: frame.name, reason: frame.error ?? 'unreadable' });
            continue;
          }
          v.frames++;
          const faces = await extractor.extract(frame.image);
          if (faces.length === 0) {
            v.missing.push(frame.name);
            continue;
          }
          v.with_face++;
          for (const face of faces) {
            const file = extractor.select === 'all' ? `${frame.name}_${face.index}.png` : `${frame.name}.png`;
            writeFileAtomic(join(dir, file), await encodePng(face.image));
            v.crops++;
          }
        }
        const short = src.indices.length - v.frames - v.unreadable.length;
        if (short > 0) v.error = `the video ended early: ${short} of ${src.indices.length} sampled frames were not decoded`;
        v.seconds = Math.round((Date.now() - t0) / 100) / 10;
        writeFileAtomic(doneFile, JSON.stringify(v, null, 2));
      } catch (err) {
        if (!(err instanceof MediaError) && !(err instanceof UserError) && !isDecodeError(err)) throw err;
        v.status = 'failed';
        v.error = err instanceof MediaError ? err.reason : (err as Error).message;
        v.seconds = Math.round((Date.now() - t0) / 100) / 10;
      }
      videos.push(v);
      progress.log(describeVideo(v, `${u + 1}/${units.length}`));
      writeSummary();
    }
  } finally {
    progress.clear();
    if (!opts.extractor) extractor.dispose();
  }
  return writeSummary();
}

function isDecodeError(err: unknown): boolean {
  return err instanceof Error && /^decodeImageRgb:/.test(err.message);
}

function readDone(file: string): VideoSummary | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as VideoSummary;
    return v && typeof v.name === 'string' && v.status === 'done' ? v : undefined;
  } catch {
    return undefined; // a damaged marker: redo the video
  }
}

export function describeVideo(v: VideoSummary, pos = ''): string {
  const head = `${pos ? `[${pos}] ` : ''}${v.name}`;
  if (v.status === 'failed') return `${head}: FAILED: ${v.error}`;
  const parts = [`${v.frames} frames`, `face in ${v.with_face}`];
  if (v.missing.length) parts.push(`no face in ${v.missing.length} (${v.missing.slice(0, 8).join(', ')}${v.missing.length > 8 ? ', …' : ''})`);
  if (v.unreadable.length) parts.push(`${v.unreadable.length} unreadable`);
  if (v.error) parts.push(v.error);
  return `${head}: ${parts.join(', ')}${v.seconds !== undefined ? ` (${v.seconds} s)` : ''}`;
}
