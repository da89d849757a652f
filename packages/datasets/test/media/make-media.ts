/** Synthetic media for the tests, made with the bundled ffmpeg and sharp. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import type { U8Image } from '@dfdet/models';
import { resolveFfmpeg } from '../../src/media/ffmpeg.js';

export const FFMPEG = resolveFfmpeg();

/** A flat frame whose color encodes its number: r = 4i, g = 255 − 4i, b = 128 (i < 64). */
export function numberedFrame(i: number, width: number, height: number): U8Image {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set([(4 * i) % 256, 255 - ((4 * i) % 256), 128], p * 3);
  return { data, width, height, channels: 3 };
}

/** Recovers the frame number from a decoded numbered frame (mean red / 4). */
export function frameNumber(img: U8Image): number {
  let r = 0;
  const n = img.width * img.height;
  for (let p = 0; p < n; p++) r += img.data[p * 3]!;
  return Math.round(r / n / 4);
}

export interface VideoSpec {
  frames: number;
  width: number;
  height: number;
  fps?: number;
  /** ffv1 in .mkv is lossless RGB; libx264 / mpeg4 are lossy. */
  codec?: 'ffv1' | 'libx264' | 'mpeg4';
  /** Extra output args (e.g. `-metadata:s:v:0 rotate=90`). */
  extra?: string[];
  frame?: (i: number) => U8Image;
}

/** Encodes generated RGB frames (piped to ffmpeg's stdin) into `path`. */
export function makeVideo(path: string, spec: VideoSpec): Promise<void> {
  const codec = spec.codec ?? 'ffv1';
  const pix = codec === 'ffv1' ? ['-pix_fmt', 'bgr0'] : ['-pix_fmt', 'yuv420p'];
  const q = codec === 'libx264' ? ['-crf', '10', '-preset', 'ultrafast'] : codec === 'mpeg4' ? ['-q:v', '2'] : [];
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${spec.width}x${spec.height}`, '-r', String(spec.fps ?? 25),
    '-i', 'pipe:0', '-c:v', codec, ...pix, ...q, ...(spec.extra ?? []), path,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(FFMPEG.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => (err += String(b)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg ${code}: ${err}`))));
    for (let i = 0; i < spec.frames; i++) child.stdin.write((spec.frame ?? ((k) => numberedFrame(k, spec.width, spec.height)))(i).data);
    child.stdin.end();
  });
}

/** Stream-copies `src` to `dst` with extra output args. */
export function remux(src: string, dst: string, extra: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(FFMPEG.path, ['-hide_banner', '-loglevel', 'error', '-y', '-i', src, '-c', 'copy', ...extra, dst], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg remux exited ${code}`))));
  });
}

export async function writeImage(path: string, img: U8Image, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<void> {
  const s = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } });
  const buf = await (format === 'png' ? s.png() : format === 'jpeg' ? s.jpeg({ quality: 95 }) : s.webp({ quality: 95 })).toBuffer();
  writeFileSync(path, buf);
}
