import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { SeededRng, UserError, writeJsonAtomic, type Split } from '@dfdet/core';
import { SYNTH_METHODS, renderPristine, synthesizeFake, type PixelBox, type SynthMethod } from './render.js';

export const SYNTH_FORMAT = 'dfdet-synthetic';
export const SYNTH_VERSION = 1;
/** Source folder of the real class. */
export const SYNTH_REAL_SOURCE = 'real';

export interface SynthOptions {
  /** Output folder: `<out>/<source>/<video>/<frame>.png` and `<out>/manifest.json`. */
  out: string;
  /** Videos per source (real and each method); also the number of identities. */
  videos_per_method?: number;
  frames_per_video?: number;
  /** Image side in pixels. */
  size?: number;
  methods?: readonly SynthMethod[];
  seed?: number;
  /** Called after each written frame. */
  onProgress?: (done: number, total: number) => void;
}

export interface SynthVideo {
  source: string;
  video: string;
  label: 0 | 1;
  /** The identity whose frames were manipulated (the real video of the same name). */
  target: string;
  /** The identity a `blend` pastes in (the target itself for real videos). */
  identity: string;
  split: Split;
  /** Frame file names, in order. */
  frames: string[];
  /** Per frame, the half-open pixel box [x0, y0, x1, y1) the method changed (fakes only). */
  regions?: PixelBox[];
}

export interface SynthManifest {
  format: typeof SYNTH_FORMAT;
  version: number;
  seed: number;
  size: number;
  videos_per_method: number;
  frames_per_video: number;
  methods: SynthMethod[];
  sources: string[];
  /** Fractions of target identities in train / val / test. */
  split_ratios: [number, number, number];
  videos: SynthVideo[];
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Splits target identities 70/15/15 (at least one in val and test from 3 identities on), seeded. */
export function splitIdentities(n: number, seed: number): Split[] {
  const perm = SeededRng.derive(seed, 'synth.split').permutation(n);
  const nTest = n >= 3 ? Math.max(1, Math.round(0.15 * n)) : n === 2 ? 1 : 0;
  const nVal = n >= 3 ? Math.max(1, Math.round(0.15 * n)) : 0;
  const out: Split[] = new Array(n);
  perm.forEach((id, rank) => {
    out[id] = rank < n - nVal - nTest ? 'train' : rank < n - nTest ? 'val' : 'test';
  });
  return out;
}

/** The identity whose face `blend` pastes onto target `i`: a seeded cycle over the identities, never `i` itself. */
export function donorOf(i: number, n: number, seed: number): number {
  if (n < 2) return n; // an identity that has no video of its own
  const perm = SeededRng.derive(seed, 'synth.donor').permutation(n);
  return perm[(perm.indexOf(i) + 1) % n]!;
}

async function encodePng(rgb: Uint8Array, size: number): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: size, height: size, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

/**
 * Writes a small synthetic deepfake corpus in the paper's layout, deterministic for a seed:
 * `<out>/real/<video>/<frame>.png` (procedural faces, one identity per video, small motion/lighting changes) and
 * `<out>/<method>/<target>_<donor>/<frame>.png` for each method, made from the SAME frames as real video `<target>`
 * with one local manipulation: `blend` (another identity's inner face pasted with a seam and colour mismatch),
 * `texture` (blocky re-sampling), `color` (colour cast over the face), `warp` (mouth region warped).
 * Splits are by target identity (70/15/15), so a real video and its fakes share a split. The manifest is written
 * last, atomically; files of an earlier, larger run are left in place but not listed.
 */
export async function generateSynthetic(opts: SynthOptions): Promise<SynthManifest> {
  const n = opts.videos_per_method ?? 8;
  const frames = opts.frames_per_video ?? 8;
  const size = opts.size ?? 64;
  const seed = opts.seed ?? 0;
  const methods = [...(opts.methods ?? SYNTH_METHODS)];
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UserError('videos_per_method must be an integer in [1, 100000]');
  if (!Number.isInteger(frames) || frames < 1 || frames > 10_000) throw new UserError('frames_per_video must be an integer in [1, 10000]');
  if (!Number.isInteger(size) || size < 16 || size > 1024) throw new UserError('size must be an integer in [16, 1024]');
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UserError('seed must be an integer in [0, 2^32)');
  for (const m of methods) if (!SYNTH_METHODS.includes(m)) throw new UserError(`unknown synthetic method "${m}"; methods: ${SYNTH_METHODS.join(', ')}`);
  if (new Set(methods).size !== methods.length) throw new UserError('methods must not repeat');

  const out = resolve(opts.out);
  const width = Math.max(3, String(n).length);
  const fwidth = Math.max(3, String(frames - 1).length);
  const splits = splitIdentities(n, seed);
  const frameNames = Array.from({ length: frames }, (_, f) => `${pad(f, fwidth)}.png`);
  const videos: SynthVideo[] = [];
  const jobs: { dir: string; file: string; make: () => { rgb: Uint8Array; region?: PixelBox } }[] = [];

  for (let i = 0; i < n; i++) {
    const name = pad(i, width);
    videos.push({ source: SYNTH_REAL_SOURCE, video: name, label: 0, target: name, identity: name, split: splits[i]!, frames: frameNames });
    const dir = join(out, SYNTH_REAL_SOURCE, name);
    for (let f = 0; f < frames; f++) {
      jobs.push({ dir, file: frameNames[f]!, make: () => ({ rgb: renderPristine({ seed, size, target: i, frame: f, frames }).rgb }) });
    }
  }
  for (const m of methods) {
    for (let i = 0; i < n; i++) {
      const d = donorOf(i, n, seed);
      const target = pad(i, width);
      const donor = pad(d, width);
      const video: SynthVideo = { source: m, video: `${target}_${donor}`, label: 1, target, identity: donor, split: splits[i]!, frames: frameNames, regions: [] };
      videos.push(video);
      const dir = join(out, m, video.video);
      for (let f = 0; f < frames; f++) {
        jobs.push({
          dir,
          file: frameNames[f]!,
          make: () => {
            const r = synthesizeFake(m, { seed, size, target: i, donor: d, frame: f, frames });
            video.regions![f] = r.region;
            return r;
          },
        });
      }
    }
  }

  const made = new Set<string>();
  let done = 0;
  const batch = 32;
  for (let s = 0; s < jobs.length; s += batch) {
    const slice = jobs.slice(s, s + batch);
    const encoded = await Promise.all(slice.map(async (j) => encodePng(j.make().rgb, size)));
    slice.forEach((j, k) => {
      if (!made.has(j.dir)) {
        mkdirSync(j.dir, { recursive: true });
        made.add(j.dir);
      }
      writeFileSync(join(j.dir, j.file), encoded[k]!);
      opts.onProgress?.(++done, jobs.length);
    });
  }

  const manifest: SynthManifest = {
    format: SYNTH_FORMAT,
    version: SYNTH_VERSION,
    seed,
    size,
    videos_per_method: n,
    frames_per_video: frames,
    methods,
    sources: [SYNTH_REAL_SOURCE, ...methods],
    split_ratios: [0.7, 0.15, 0.15],
    videos,
  };
  writeJsonAtomic(join(out, 'manifest.json'), manifest);
  return manifest;
}
