/**
 * Video decoding with ffmpeg (no ffprobe, no temp files): probe by parsing `ffmpeg -i` stderr, count frames by
 * stream-copying the video packets to the null muxer, and read N uniformly spaced frames as raw RGB through a pipe
 * (`select` filter on the decoded frame index, `-f rawvideo -pix_fmt rgb24 pipe:1`).
 */
import { spawn } from 'node:child_process';
import type { U8Image } from '@dfdet/models';
import { ffmpegReason, resolveFfmpeg, runFfmpeg, spawnError, type FfmpegBinary } from './ffmpeg.js';

export class MediaError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'MediaError';
  }
}

export interface VideoInfo {
  /** Seconds, from the container header (undefined when ffmpeg prints N/A). */
  duration?: number;
  /** Nominal frame rate of the first video stream. */
  fps?: number;
  /** Coded size; decoded frames are rotated by the display matrix (ffmpeg autorotates), see `rotation`. */
  width: number;
  height: number;
  codec: string;
  /** Degrees of the display matrix / rotate tag (0 when none). */
  rotation: number;
  /** Frames in the first video stream: counted packets, or duration × fps when counting failed. */
  frameCount: number;
  frameCountExact: boolean;
}

const durationRe = /Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/;
const videoStreamRe = /Stream #\d+:\d+[^:]*: Video: ([^\s,]+)[^\n]*?, (\d{1,5})x(\d{1,5})\b/;

/** Parses `ffmpeg -i <file>` stderr (the input section only). */
export function parseProbe(stderr: string): Omit<VideoInfo, 'frameCount' | 'frameCountExact'> | undefined {
  const input = stderr.split(/\nOutput #0/)[0]!;
  const s = videoStreamRe.exec(input);
  if (!s) return undefined;
  const d = durationRe.exec(input);
  const streamLine = input.slice(s.index).split('\n')[0]!;
  const fps = /, (\d+(?:\.\d+)?)(k?) fps/.exec(streamLine) ?? /, (\d+(?:\.\d+)?)(k?) tbr/.exec(streamLine);
  const after = input.slice(s.index);
  const rot = /displaymatrix: rotation of (-?\d+(?:\.\d+)?) degrees/.exec(after) ?? /rotate\s*:\s*(-?\d+)/.exec(after);
  return {
    duration: d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : undefined,
    fps: fps ? Number(fps[1]) * (fps[2] ? 1000 : 1) : undefined,
    width: Number(s[2]),
    height: Number(s[3]),
    codec: s[1]!,
    rotation: rot ? Number(rot[1]) : 0,
  };
}

export interface VideoReadOptions {
  /** ffmpeg binary (default: resolveFfmpeg()). */
  ffmpeg?: FfmpegBinary;
}

/** Header facts and the frame count of the first video stream. Throws MediaError when ffmpeg cannot read it. */
export async function probeVideo(path: string, opts: VideoReadOptions = {}): Promise<VideoInfo> {
  const bin = opts.ffmpeg ?? resolveFfmpeg();
  // `ffmpeg -i` alone exits 1 ("At least one output file must be specified") after printing the input
  const probe = await runFfmpeg(bin, ['-hide_banner', '-nostdin', '-i', path]);
  const info = parseProbe(probe.stderr);
  if (!info) {
    const reason = /Stream #/.test(probe.stderr) ? 'no video stream' : ffmpegReason(probe.stderr, path);
    throw new MediaError(path, reason);
  }
  // exact count: copy the packets of the first video stream to the null muxer (no decoding)
  const count = await runFfmpeg(bin, ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-progress', 'pipe:1', '-nostats', '-']);
  const frames = [...count.stdout.toString('utf8').matchAll(/^frame=(\d+)/gm)].map((m) => Number(m[1]));
  const counted = count.code === 0 && frames.length ? frames[frames.length - 1]! : 0;
  if (counted > 0) return { ...info, frameCount: counted, frameCountExact: true };
  const estimate = info.duration !== undefined && info.fps !== undefined ? Math.round(info.duration * info.fps) : 0;
  if (estimate <= 0) throw new MediaError(path, `cannot tell how many frames it has (${ffmpegReason(count.stderr, path)})`);
  return { ...info, frameCount: estimate, frameCountExact: false };
}

/**
 * `n` uniformly spaced frame indices of a `count`-frame video: `np.linspace(0, count − 1, n, dtype=int)` as
 * DeepfakeBench samples them, duplicates removed (a video shorter than `n` gives all its frames).
 */
export function uniformFrameIndices(count: number, n: number): number[] {
  if (count <= 0 || n <= 0) return [];
  if (n === 1) return [0];
  const step = (count - 1) / (n - 1);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) idx.push(i === n - 1 ? count - 1 : Math.trunc(i * step));
  return [...new Set(idx)];
}

export interface VideoFrame {
  /** Index of the frame in decode order (0-based). */
  index: number;
  image: U8Image;
}

/** Per binary: `-fps_mode passthrough` (ffmpeg ≥ 5.1) or `-vsync 0` (older; deprecated since). */
const syncFlags = new Map<string, '-fps_mode' | '-vsync'>();

/**
 * Decodes the given frames (sorted, unique indices) and yields them in order as RGB images, one at a time; only
 * one frame is buffered. A video that ends early yields fewer frames; a failure throws MediaError.
 */
export async function* readVideoFrames(path: string, indices: readonly number[], opts: VideoReadOptions = {}): AsyncGenerator<VideoFrame> {
  const want = [...new Set(indices)].sort((a, b) => a - b);
  if (want.length === 0) return;
  const bin = opts.ffmpeg ?? resolveFfmpeg();
  const select = `select='${want.map((i) => `eq(n,${i})`).join('+')}'`;
  const args = (flag: string) => [
    '-hide_banner', '-nostdin', '-nostats', '-i', path, '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', select, flag, flag === '-fps_mode' ? 'passthrough' : '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
  const known = syncFlags.get(bin.path);
  for (const flag of known ? [known] : (['-fps_mode', '-vsync'] as const)) {
    let first = true;
    try {
      for await (const f of decode(bin, path, args(flag), want)) {
        if (first) syncFlags.set(bin.path, flag);
        first = false;
        yield f;
      }
      syncFlags.set(bin.path, flag);
      return;
    } catch (err) {
      // ffmpeg < 5.1 has no -fps_mode; newer ones deprecate -vsync. Try the other spelling once.
      if (first && !known && err instanceof MediaError && /Unrecognized option|Option not found/.test(err.reason)) continue;
      throw err;
    }
  }
}

async function* decode(bin: FfmpegBinary, path: string, args: string[], want: number[]): AsyncGenerator<VideoFrame> {
  const child = spawn(bin.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let size: { width: number; height: number } | undefined;
  // the header of the output stream names the decoded size (after autorotation); ffmpeg prints it before any frame
  const outRe = /Output #0[\s\S]*?Stream #\d+:\d+[^\n]*?Video: rawvideo[^\n]*?, rgb24[^\n]*?, (\d+)x(\d+)/;
  const parseSize = () => {
    const m = size ? undefined : outRe.exec(stderr);
    if (m) size = { width: Number(m[1]), height: Number(m[2]) };
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-65536);
    parseSize();
  });
  let spawnErr: Error | undefined;
  const exited = new Promise<number | null>((r) => {
    child.on('error', (e) => {
      spawnErr = e;
      r(null);
    });
    child.on('close', (code) => r(code));
  });
  const early: Buffer[] = []; // output before the size is known
  let cur: Uint8Array | undefined;
  let filled = 0;
  let k = 0;
  const feed = function* (chunk: Buffer): Generator<VideoFrame> {
    const { width, height } = size!;
    const frameBytes = width * height * 3;
    let off = 0;
    while (off < chunk.length) {
      cur ??= new Uint8Array(frameBytes);
      const n = Math.min(frameBytes - filled, chunk.length - off);
      cur.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === frameBytes) {
        if (k >= want.length) throw new MediaError(path, `ffmpeg returned more frames than the ${want.length} selected`);
        yield { index: want[k++]!, image: { data: cur, width, height, channels: 3 } };
        cur = undefined;
        filled = 0;
      }
    }
  };
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      if (!size) parseSize();
      if (!size) {
        early.push(chunk);
        continue;
      }
      for (const c of early.splice(0)) yield* feed(c);
      yield* feed(chunk);
    }
    const code = await exited;
    if (spawnErr) throw spawnError(bin, spawnErr);
    if (code !== 0) throw new MediaError(path, ffmpegReason(stderr, path));
    parseSize();
    if (early.length) {
      if (!size) throw new MediaError(path, 'could not read the decoded frame size from ffmpeg');
      for (const c of early.splice(0)) yield* feed(c);
    }
    if (filled) throw new MediaError(path, `truncated frame output (${filled} stray bytes)`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export interface SampledVideo {
  info: VideoInfo;
  /** The indices asked for (uniformly spaced). */
  indices: number[];
  frames: AsyncGenerator<VideoFrame>;
}

/** Probes a video and opens a stream of `n` uniformly spaced frames. */
export async function sampleVideo(path: string, n: number, opts: VideoReadOptions = {}): Promise<SampledVideo> {
  const info = await probeVideo(path, opts);
  const indices = uniformFrameIndices(info.frameCount, n);
  return { info, indices, frames: readVideoFrames(path, indices, opts) };
}
