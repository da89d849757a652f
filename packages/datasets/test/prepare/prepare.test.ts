import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { U8Image } from '@dfdet/models';
import { dataPrepareCommand } from '../../src/prepare/command.js';
import type { PrepareSummary } from '../../src/prepare/prepare.js';
import { HAVE_SAMPLES, loadSample, singleFace } from '../faces/samples.js';
import { makeVideo, numberedFrame, writeImage } from '../media/make-media.js';
import { runCommand } from '../predict/run-command.js';

let dir: string;
let input: string;
const summary = (out: string) => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as PrepareSummary;
const pngs = (d: string) => readdirSync(d).filter((f) => f.endsWith('.png')).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dfdet-prepare-'));
  input = join(dir, 'videos');
  mkdirSync(join(input, 'stills'), { recursive: true });
  const photo: U8Image = HAVE_SAMPLES ? await singleFace(440) : numberedFrame(3, 440, 440);
  const W = 440;
  const H = 440;
  // 3 frames: the photo, a blank frame, the photo moved 10 px right
  const frame = (i: number) => {
    const img = numberedFrame(0, W, H);
    if (i === 1) return img;
    const dx = i === 2 ? 10 : 0;
    for (let y = 0; y < H; y++) img.data.set(photo.data.subarray(y * W * 3, (y * W + W - dx) * 3), (y * W + dx) * 3);
    return img;
  };
  await makeVideo(join(input, 'people.mp4'), { frames: 3, width: W, height: H, codec: 'libx264', frame });
  await makeVideo(join(input, 'empty.mkv'), { frames: 2, width: 48, height: 32, codec: 'ffv1' });
  writeFileSync(join(input, 'corrupt.mp4'), 'definitely not a video');
  writeFileSync(join(input, 'README.txt'), 'notes');
  await writeImage(join(input, 'stills', 'f01.png'), photo);
  writeFileSync(join(input, 'stills', 'f02.png'), 'broken png');
});

describe.skipIf(!HAVE_SAMPLES)('exp data prepare', () => {
  it('writes aligned crops per video and frame, reports faces found and missing, and failures without stopping', async () => {
    const out = join(dir, 'datasets', 'mine', 'real');
    const r = await runCommand(dataPrepareCommand, ['prepare', '--input', input, '--out', out, '--frames', '3', '--size', '64', '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/prepared 4 video\(s\): 3 now, 0 earlier, 1 failed; 6 frames, a face in 3, none in 3; 3 crops/);
    expect(r.err).toMatch(/skipped .*README\.txt: unsupported file type \.txt/);
    expect(r.err).toMatch(/\[\d\/4\] corrupt: FAILED: .*Invalid data found/);
    expect(r.err).toMatch(/\[\d\/4\] people: 3 frames, face in 2, no face in 1 \(001\)/);
    expect(pngs(join(out, 'people'))).toEqual(['000.png', '002.png']);
    expect(pngs(join(out, 'empty'))).toEqual([]);
    expect(pngs(join(out, 'stills'))).toEqual(['f01.png']);
    const meta = await sharp(join(out, 'people', '000.png')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([64, 64, 3]);
    // the moved frame gives (almost) the same crop: alignment follows the face (compared at 16 px: landmark jitter aside)
    const coarse = (f: string) => sharp(join(out, 'people', f)).resize(16, 16, { kernel: 'cubic' }).raw().toBuffer();
    const a = await coarse('000.png');
    const b = await coarse('002.png');
    expect(a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length).toBeLessThan(12);

    const s = summary(out);
    expect(s.options).toEqual({ frames: 3, size: 64, scale: 1.3, keypoints: 'deepfakebench', select: 'largest', detector: 'ssd-mobilenet' });
    const by = Object.fromEntries(s.videos.map((v) => [v.name, v]));
    expect(by.people).toMatchObject({ status: 'done', frame_count: 3, frames: 3, with_face: 2, missing: ['001'], crops: 2 });
    expect(by.empty).toMatchObject({ status: 'done', frames: 2, with_face: 0, missing: ['000', '001'], crops: 0 });
    expect(by.stills).toMatchObject({ status: 'done', kind: 'frames', frame_count: 2, frames: 1, with_face: 1, crops: 1 });
    expect(by.stills!.unreadable).toEqual([{ frame: 'f02', reason: expect.any(String) }]);
    expect(by.corrupt).toMatchObject({ status: 'failed', error: expect.stringMatching(/Invalid data found/) });
    expect(s.totals).toMatchObject({ videos: 4, done: 3, failed: 1, frames: 6, with_face: 3, missing: 3, crops: 3 });
    expect(s.skipped_files).toHaveLength(1);
    for (const v of ['people', 'empty', 'stills']) expect(existsSync(join(out, v, '.done'))).toBe(true);
    expect(existsSync(join(out, 'corrupt', '.done'))).toBe(false);

    // resumable: finished videos are skipped; a video whose marker is gone is redone
    const before = statSync(join(out, 'people', '000.png')).mtimeMs;
    rmSync(join(out, 'stills', '.done'));
    writeFileSync(join(out, 'stills', 'stale.png'), 'left by an interrupted run');
    const again = await runCommand(dataPrepareCommand, ['prepare', '--input', input, '--out', out, '--frames', '3', '--size', '64', '--backend', 'wasm']);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/people: done earlier, skipped/);
    expect(again.err).toMatch(/empty: done earlier, skipped/);
    expect(again.err).not.toMatch(/stills: done earlier/);
    expect(again.out).toMatch(/prepared 4 video\(s\): 1 now, 2 earlier, 1 failed/);
    expect(statSync(join(out, 'people', '000.png')).mtimeMs).toBe(before);
    expect(pngs(join(out, 'stills'))).toEqual(['f01.png']);
    expect(summary(out).totals).toMatchObject({ done: 3, resumed: 2, failed: 1, crops: 3 });
    // other options: still skipped, but said so
    const other = await runCommand(dataPrepareCommand, ['prepare', '--input', input, '--out', out, '--frames', '5', '--size', '64', '--backend', 'wasm']);
    expect(other.err).toMatch(/people: done earlier, skipped \(made with other options: .*"frames":3.*--force redoes it\)/);
  });

  it('--all-faces writes every face of a frame as <frame>_<k>.png, largest first', async () => {
    const only = join(dir, 'group');
    mkdirSync(join(only, 'party'), { recursive: true });
    await writeImage(join(only, 'party', 'shot.jpg'), await loadSample(1, 640), 'jpeg');
    const out = join(dir, 'out-all');
    const r = await runCommand(dataPrepareCommand, ['prepare', '--input', only, '--out', out, '--size', '64', '--all-faces', '--backend', 'wasm']);
    expect(r.code, r.err).toBe(0);
    expect(pngs(join(out, 'party'))).toEqual(['shot_0.png', 'shot_1.png', 'shot_2.png']);
    expect(summary(out).videos[0]).toMatchObject({ name: 'party', with_face: 1, crops: 3 });
  });
});

describe('exp data prepare failures', () => {
  it('exits non-zero when nothing could be processed; refuses an output inside the input', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'x.mp4'), 'nope');
    const r = await runCommand(dataPrepareCommand, ['prepare', '--input', bad, '--out', join(dir, 'bad-out'), '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/x: FAILED: .*Invalid data/);
    expect(r.err).toMatch(/nothing could be processed/);
    expect(summary(join(dir, 'bad-out')).totals).toMatchObject({ videos: 1, failed: 1 });
    const inside = await runCommand(dataPrepareCommand, ['prepare', '--input', bad, '--out', join(bad, 'crops'), '--backend', 'wasm']);
    expect(inside.code).toBe(1);
    expect(inside.err).toMatch(/--out .* must not be inside --input/);
    const none = await runCommand(dataPrepareCommand, ['prepare', '--input', join(dir, 'nowhere'), '--out', join(dir, 'o'), '--backend', 'wasm']);
    expect(none.err).toMatch(/--input: .*nowhere does not exist/);
  });
});
