import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mediaKind, mediaUnits, naturalCompare, walkMedia } from '../../src/media/files.js';
import { resolveFfmpeg } from '../../src/media/ffmpeg.js';
import { MediaError, parseProbe, probeVideo, readVideoFrames, sampleVideo, uniformFrameIndices, type VideoFrame } from '../../src/media/video.js';
import { FFMPEG, frameNumber, makeVideo, numberedFrame, remux, writeImage } from './make-media.js';

let dir: string;
const collect = async (g: AsyncGenerator<VideoFrame>) => {
  const out: VideoFrame[] = [];
  for await (const f of g) out.push(f);
  return out;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dfdet-media-'));
  await Promise.all([
    makeVideo(join(dir, 'lossless.mkv'), { frames: 50, width: 32, height: 24, codec: 'ffv1' }),
    makeVideo(join(dir, 'h264.mp4'), { frames: 40, width: 64, height: 48, codec: 'libx264' }),
    makeVideo(join(dir, 'upright.mp4'), { frames: 10, width: 64, height: 48, codec: 'libx264' }).then(() =>
      // the rotate tag survives a stream copy (an encode drops it)
      remux(join(dir, 'upright.mp4'), join(dir, 'rotated.mp4'), ['-metadata:s:v:0', 'rotate=90']),
    ),
    makeVideo(join(dir, 'short.avi'), { frames: 5, width: 32, height: 32, codec: 'mpeg4' }),
  ]);
});

describe('uniform frame sampling', () => {
  it("is numpy's linspace(0, n − 1, N, dtype=int) as DeepfakeBench uses it, deduplicated", () => {
    // expected values printed by numpy 1.24
    expect(uniformFrameIndices(300, 32)).toEqual([
      0, 9, 19, 28, 38, 48, 57, 67, 77, 86, 96, 106, 115, 125, 135, 144, 154, 163, 173, 183, 192, 202, 212, 221, 231, 241, 250, 260, 270, 279, 289, 299,
    ]);
    expect(uniformFrameIndices(50, 8)).toEqual([0, 7, 14, 21, 28, 35, 42, 49]);
    expect(uniformFrameIndices(10, 32)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(uniformFrameIndices(7, 3)).toEqual([0, 3, 6]);
    expect(uniformFrameIndices(1, 4)).toEqual([0]);
    expect(uniformFrameIndices(0, 4)).toEqual([]);
  });
});

describe('video decoding with the bundled ffmpeg', () => {
  afterEach(() => {
    delete process.env.DFDET_FFMPEG;
  });

  it('probes size, rate, duration and the exact frame count without ffprobe', async () => {
    const info = await probeVideo(join(dir, 'lossless.mkv'));
    expect(info).toMatchObject({ width: 32, height: 24, fps: 25, codec: 'ffv1', frameCount: 50, frameCountExact: true, rotation: 0 });
    expect(info.duration).toBeCloseTo(2, 1);
    expect(await probeVideo(join(dir, 'h264.mp4'))).toMatchObject({ codec: 'h264', frameCount: 40, width: 64, height: 48 });
    expect(await probeVideo(join(dir, 'short.avi'))).toMatchObject({ codec: 'mpeg4', frameCount: 5 });
  });

  it('reads the selected frames, in order, with their exact pixels (lossless)', async () => {
    const v = await sampleVideo(join(dir, 'lossless.mkv'), 8);
    expect(v.indices).toEqual([0, 7, 14, 21, 28, 35, 42, 49]);
    const frames = await collect(v.frames);
    expect(frames.map((f) => f.index)).toEqual(v.indices);
    for (const f of frames) {
      expect(f.image).toMatchObject({ width: 32, height: 24, channels: 3 });
      expect(Buffer.from(f.image.data).equals(Buffer.from(numberedFrame(f.index, 32, 24).data))).toBe(true);
    }
  });

  it('arbitrary indices of a lossy H.264 video come back in order', async () => {
    const frames = await collect(readVideoFrames(join(dir, 'h264.mp4'), [39, 3, 0, 17, 3]));
    expect(frames.map((f) => f.index)).toEqual([0, 3, 17, 39]);
    expect(frames.map((f) => frameNumber(f.image))).toEqual([0, 3, 17, 39]);
  });

  it('decoded frames follow the rotation metadata (ffmpeg autorotates)', async () => {
    const info = await probeVideo(join(dir, 'rotated.mp4'));
    expect(Math.abs(info.rotation)).toBe(90);
    const frames = await collect(readVideoFrames(join(dir, 'rotated.mp4'), [0, 9]));
    expect(frames.map((f) => [f.image.width, f.image.height])).toEqual([[48, 64], [48, 64]]);
    expect(frameNumber(frames[1]!.image)).toBe(9);
  });

  it('a video shorter than the number of frames asked for gives all its frames', async () => {
    const v = await sampleVideo(join(dir, 'short.avi'), 32);
    expect(v.indices).toEqual([0, 1, 2, 3, 4]);
    expect((await collect(v.frames)).map((f) => frameNumber(f.image))).toEqual([0, 1, 2, 3, 4]);
  });

  it('unreadable files are MediaErrors with ffmpeg\'s reason', async () => {
    writeFileSync(join(dir, 'garbage.mp4'), 'not a video at all');
    await expect(probeVideo(join(dir, 'garbage.mp4'))).rejects.toThrow(/Invalid data found when processing input/);
    const whole = readFileSync(join(dir, 'h264.mp4'));
    writeFileSync(join(dir, 'truncated.mp4'), whole.subarray(0, Math.floor(whole.length / 3)));
    const err = await probeVideo(join(dir, 'truncated.mp4')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).reason).toMatch(/moov atom not found|Invalid data/);
    await writeImage(join(dir, 'still.png'), numberedFrame(1, 8, 8));
    // a still image is a one-frame "video" to ffmpeg; the probe still works
    expect((await probeVideo(join(dir, 'still.png'))).frameCount).toBe(1);
  });

  it('DFDET_FFMPEG picks the binary; a missing one is reported', async () => {
    process.env.DFDET_FFMPEG = join(dir, 'no-such-ffmpeg');
    expect(resolveFfmpeg()).toEqual({ path: join(dir, 'no-such-ffmpeg'), source: 'DFDET_FFMPEG' });
    await expect(probeVideo(join(dir, 'lossless.mkv'))).rejects.toThrow(/ffmpeg not found at .*no-such-ffmpeg \(from DFDET_FFMPEG\)/);
    process.env.DFDET_FFMPEG = FFMPEG.path;
    expect((await probeVideo(join(dir, 'lossless.mkv'))).frameCount).toBe(50);
    expect(resolveFfmpeg('/opt/ffmpeg').source).toBe('option');
  });

  it('parses newer ffmpeg banners (display matrix rotation, k fps)', () => {
    const stderr = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.mov':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 9000 kb/s
  Stream #0:0[0x1](und): Video: hevc (Main) (hvc1 / 0x31637668), yuv420p(tv, bt709), 1920x1080, 8000 kb/s, 29.97 fps, 29.97 tbr, 600 tbn (default)
      Side data:
        displaymatrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, stereo, fltp, 128 kb/s (default)
At least one output file must be specified`;
    expect(parseProbe(stderr)).toEqual({ duration: 62.5, fps: 29.97, width: 1920, height: 1080, codec: 'hevc', rotation: -90 });
    expect(parseProbe("Input #0, wav, from 'a.wav':\n  Stream #0:0: Audio: pcm_s16le, 44100 Hz")).toBeUndefined();
  });
});

describe('finding media', () => {
  it('classifies by extension, walks folders in natural order, and groups frame folders', async () => {
    expect(mediaKind('a/B.JPG')).toBe('image');
    expect(mediaKind('x.webm')).toBe('video');
    expect(mediaKind('notes.txt')).toBeUndefined();
    expect(['f10.png', 'f9.png', 'f1.png'].sort(naturalCompare)).toEqual(['f1.png', 'f9.png', 'f10.png']);
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'frames', 'clipA'), { recursive: true });
    mkdirSync(join(root, 'sub'), { recursive: true });
    for (const i of [10, 2, 1]) await writeImage(join(root, 'frames', 'clipA', `${i}.png`), numberedFrame(i, 4, 4));
    writeFileSync(join(root, 'sub', 'v.mp4'), '');
    writeFileSync(join(root, 'v.mp4'), '');
    writeFileSync(join(root, 'v.avi'), '');
    writeFileSync(join(root, 'README.md'), '');
    writeFileSync(join(root, '.hidden.mp4'), '');
    const w = walkMedia(root);
    expect(w.skipped.map((s) => s.reason)).toEqual(['unsupported file type .md (not an image or video)']);
    const { units } = mediaUnits(root);
    expect(units.map((u) => [u.name, u.kind])).toEqual([
      ['frames_clipA', 'frames'],
      ['sub_v', 'video'],
      ['v_avi', 'video'],
      ['v_mp4', 'video'],
    ]);
    expect(units[0]!.images!.map((p) => p.split('/').pop())).toEqual(['1.png', '2.png', '10.png']);
  });
});
