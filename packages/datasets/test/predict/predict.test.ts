import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRegistry, loadDetector, saveCheckpoint, selectEngine, snapshot, type CheckpointMeta } from '@dfdet/core';
import { readSafetensors, writeSafetensors } from '@dfdet/models';
import { predictCommand } from '../../src/predict/command.js';
import { predictImages, type FramePrediction, type VideoPrediction } from '../../src/predict/predict.js';
import { HAVE_SAMPLES, loadSample } from '../faces/samples.js';
import { makeVideo, numberedFrame, writeImage } from '../media/make-media.js';
import { runCommand } from './run-command.js';

const FIX = resolve(__dirname, '../../../../test/fixtures/clip-tiny');
let dir: string;
let ckpt: string;
let exported: string;

const LINE = /^p\(real\) = (\d\.\d{4}), p\(fake\) = (\d\.\d{4}), (image|frame|video): (.+)$/;
const parseLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => LINE.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ p_real: Number(m[1]), p_fake: Number(m[2]), what: m[3]!, rest: m[4]! }));

/** p(fake) the model gives a file, computed apart from the command: loadDetector + backbone.loadImages. */
async function reference(checkpoint: string, files: string[]): Promise<number[]> {
  const registry = await buildRegistry([]);
  await selectEngine(registry, { backend: 'wasm', device: 'cpu' });
  const { model } = await loadDetector(registry, checkpoint);
  try {
    const x = await model.backbone.loadImages(files);
    const p = model.predictFake(x);
    const out = [...(await p.data())];
    x.dispose();
    p.dispose();
    return out;
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dfdet-predict-'));
  // a "foreign" checkpoint: the tiny CLIP tower's HF weights plus a linear-norm head, no dfdet metadata (the paper's
  // .ckpt loads this way); the tiny architecture cannot be read off the weights, so its config.json sits beside it
  mkdirSync(join(dir, 'foreign'));
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(FIX, f), join(dir, 'foreign', f));
  const weights = readSafetensors(join(FIX, 'model.safetensors'));
  weights.set('head.weight', { shape: [2, 32], data: Float32Array.from({ length: 64 }, (_, i) => 4 * Math.sin(1.7 * i + 0.3)) });
  weights.set('head.bias', { shape: [2], data: Float32Array.from([0.1, -0.2]) });
  ckpt = join(dir, 'foreign', 'detector.safetensors');
  writeSafetensors(ckpt, weights, { format: 'pt' });

  // a dfdet standalone export of the same model, written as `exp export` writes one
  const registry = await buildRegistry([]);
  await selectEngine(registry, { backend: 'wasm', device: 'cpu' });
  const loaded = await loadDetector(registry, ckpt);
  const backbone = { name: 'clip-vit', ...loaded.model.backbone.standaloneOptions?.() };
  const meta: CheckpointMeta = {
    format: 'dfdet-checkpoint/1',
    kind: 'export',
    step: 0,
    epoch: 0,
    next_batch: 0,
    metrics: {},
    trainer: {},
    config: { model: { backbone, peft: { name: 'linear-probe' }, head: { name: 'linear-norm' } } },
  };
  exported = join(dir, 'export.safetensors');
  saveCheckpoint(registry.service('tensorFiles'), exported, { params: snapshot(new Map(loaded.model.namedParameters())), meta });
  loaded.model.dispose();

  mkdirSync(join(dir, 'crops'));
  for (const i of [0, 1, 2]) copyFileSync(join(FIX, `img${i}.png`), join(dir, 'crops', `img${i}.png`));
  const pattern = (w: number, h: number, k: number) => {
    const img = numberedFrame(0, w, h);
    for (let p = 0; p < w * h; p++) img.data.set([(p * k) % 256, (p * 7 + k * 40) % 256, (p % w) * 9], p * 3);
    return img;
  };
  await writeImage(join(dir, 'crops', 'photo.jpg'), pattern(40, 30, 3), 'jpeg');
  await writeImage(join(dir, 'crops', 'photo.webp'), pattern(30, 40, 5), 'webp');
  writeFileSync(join(dir, 'crops', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png'));
  writeFileSync(join(dir, 'crops', 'notes.txt'), 'hello');
  await makeVideo(join(dir, 'clip.mkv'), { frames: 12, width: 32, height: 32, codec: 'ffv1' });
  writeFileSync(join(dir, 'bad.mp4'), 'no video here');
});

describe('exp predict on face crops (--faces off)', () => {
  it("prints the paper's lines per image, per frame and per video, and reports bad files without stopping", async () => {
    const out = join(dir, 'p.json');
    const r = await runCommand(predictCommand, [
      'predict', join(dir, 'crops'), join(dir, 'clip.mkv'), join(dir, 'bad.mp4'), join(dir, 'missing.png'),
      '--checkpoint', ckpt, '--faces', 'off', '--frames', '4', '--backend', 'wasm', '--output', out,
    ]);
    expect(r.code, r.err).toBe(0);
    const lines = parseLines(r.out);
    const imgs = lines.filter((l) => l.what === 'image');
    expect(imgs.map((l) => l.rest.split('/').pop())).toEqual(['img0.png', 'img1.png', 'img2.png', 'photo.jpg', 'photo.webp']);
    for (const l of lines) expect(l.p_real + l.p_fake).toBeCloseTo(1, 3);
    // exactly the paper's format for a still image
    expect(r.out).toMatch(new RegExp(`^p\\(real\\) = \\d\\.\\d{4}, p\\(fake\\) = \\d\\.\\d{4}, image: ${join(dir, 'crops', 'img0.png').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(lines.filter((l) => l.what === 'frame').map((l) => l.rest)).toEqual([0, 3, 7, 11].map((i) => `${join(dir, 'clip.mkv')} #${i}`));
    expect(lines.filter((l) => l.what === 'video').map((l) => l.rest)).toEqual([`${join(dir, 'clip.mkv')} (mean of 4 over 4 frames)`]);
    // problems: on stderr, with their reasons
    expect(r.err).toMatch(/skipped .*broken\.png: cannot decode: /);
    expect(r.err).toMatch(/skipped .*notes\.txt: unsupported file type \.txt/);
    expect(r.err).toMatch(/skipped .*bad\.mp4: .*Invalid data found/);
    expect(r.err).toMatch(/skipped .*missing\.png: not found/);

    // the numbers are the model's: same as loadDetector + backbone.loadImages on the files
    const json = JSON.parse(readFileSync(out, 'utf8')) as { predictions: FramePrediction[]; videos: VideoPrediction[]; problems: unknown[]; checkpoint_kind: string };
    expect(json.checkpoint_kind).toBe('foreign');
    const files = ['img0.png', 'img1.png', 'img2.png', 'photo.jpg', 'photo.webp'].map((f) => join(dir, 'crops', f));
    const want = await reference(ckpt, files);
    const got = json.predictions.filter((p) => p.level === 'image');
    expect(got.map((p) => p.path)).toEqual(files);
    got.forEach((p, i) => {
      expect(p.p_fake).toBeCloseTo(want[i]!, 5);
      expect(p.p_real).toBeCloseTo(1 - want[i]!, 5);
    });
    expect(new Set(want.map((p) => p.toFixed(3))).size).toBeGreaterThan(1); // the head separates the inputs
    // video frames: the decoded frames are the exact generated pixels, so the model on them gives the same numbers
    const registry = await buildRegistry([]);
    await selectEngine(registry, { backend: 'wasm', device: 'cpu' });
    const { model } = await loadDetector(registry, ckpt);
    const frameP = await predictImages(model, [0, 3, 7, 11].map((i) => numberedFrame(i, 32, 32)));
    model.dispose();
    const frames = json.predictions.filter((p) => p.level === 'frame');
    expect(frames.map((f) => f.frame)).toEqual([0, 3, 7, 11]);
    frames.forEach((f, i) => expect(f.p_fake).toBeCloseTo(frameP[i]!, 5));
    expect(json.videos).toHaveLength(1);
    expect(json.videos[0]!.p_fake).toBeCloseTo(frameP.reduce((a, b) => a + b, 0) / 4, 6);
    expect(json.problems).toHaveLength(4);
  });

  it('writes CSV; a standalone export predicts the same; folders of frames become videos with --frame-dirs', async () => {
    const csv = join(dir, 'p.csv');
    const a = await runCommand(predictCommand, ['predict', join(dir, 'crops'), '--checkpoint', ckpt, '--faces', 'off', '--backend', 'wasm', '--output', csv]);
    expect(a.code, a.err).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('level,path,frame,file,face,face_score,n,p_real,p_fake');
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(['image', 'image', 'image', 'image', 'image']);
    const b = await runCommand(predictCommand, ['predict', join(dir, 'crops'), '--checkpoint', exported, '--faces', 'off', '--backend', 'wasm', '--frame-dirs']);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toMatch(/\(export\)/);
    const pa = parseLines(a.out);
    const pb = parseLines(b.out);
    // with --frame-dirs the crops folder is one video: its images are frames (printed by file), then the mean
    expect(pb.filter((l) => l.what === 'image').map((l) => l.p_fake)).toEqual(pa.map((l) => l.p_fake));
    const video = pb.find((l) => l.what === 'video')!;
    expect(video.rest).toBe(`${join(dir, 'crops')} (mean of 5 over 5 frames)`);
    expect(video.p_fake).toBeCloseTo(pa.reduce((s, l) => s + l.p_fake, 0) / 5, 3);
  });

  it('exits non-zero only when nothing could be processed; rejects an unknown output format', async () => {
    const r = await runCommand(predictCommand, ['predict', join(dir, 'bad.mp4'), join(dir, 'crops', 'broken.png'), '--checkpoint', ckpt, '--faces', 'off', '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing could be processed \(2 input\(s\) skipped/);
    const o = await runCommand(predictCommand, ['predict', join(dir, 'crops'), '--checkpoint', ckpt, '--output', join(dir, 'p.xlsx')]);
    expect(o.code).toBe(1);
    expect(o.err).toMatch(/--output: write a \.csv or \.json file/);
  });
});

describe.skipIf(!HAVE_SAMPLES)('exp predict with face detection (--faces on)', () => {
  it('crops the largest face of photos and video frames; an image without a face is reported', async () => {
    const photo = await loadSample(1, 640);
    await writeImage(join(dir, 'people.jpg'), photo, 'jpeg');
    await writeImage(join(dir, 'wall.png'), { data: new Uint8Array(64 * 48 * 3).fill(120), width: 64, height: 48, channels: 3 });
    // a 3-frame video of the photo drifting right; the middle frame is blank (no face)
    const W = 640;
    const H = photo.height - (photo.height % 2);
    const frame = (i: number) => {
      const img = numberedFrame(0, W, H);
      if (i === 1) return img;
      for (let y = 0; y < H; y++) img.data.set(photo.data.subarray(y * W * 3, (y * W + W - 8 * i) * 3), (y * W + 8 * i) * 3);
      return img;
    };
    await makeVideo(join(dir, 'people.mp4'), { frames: 3, width: W, height: H, codec: 'libx264', frame });
    const out = join(dir, 'faces.json');
    const r = await runCommand(predictCommand, [
      'predict', join(dir, 'people.jpg'), join(dir, 'wall.png'), join(dir, 'people.mp4'),
      '--checkpoint', ckpt, '--frames', '3', '--backend', 'wasm', '--size', '64', '--output', out,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/faces: ssd-mobilenet on wasm, largest face, 64px crops \(deepfakebench keypoints\)/);
    expect(r.err).toMatch(/skipped .*wall\.png: no face found/);
    const lines = parseLines(r.out);
    expect(lines.map((l) => l.what)).toEqual(['image', 'frame', 'frame', 'video']);
    expect(lines[0]!.rest).toBe(`${join(dir, 'people.jpg')} (face 0)`);
    expect(lines[3]!.rest).toBe(`${join(dir, 'people.mp4')} (mean of 2 over 3 frames, no face in 1)`);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { predictions: FramePrediction[]; videos: VideoPrediction[] };
    expect(json.predictions.map((p) => p.frame)).toEqual([undefined, 0, 2]);
    for (const p of json.predictions) expect(p.face_score).toBeGreaterThan(0.8);
    expect(json.videos[0]!.no_face).toEqual([1]);
  });
});
