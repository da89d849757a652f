import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuEngine, tf } from '@dfdet/core';
import type { U8Image } from '@dfdet/models';
import { applyAffine, deepfakeBenchTemplate, fivePointsFrom68 } from '../../src/faces/align.js';
import { createFaceDetector } from '../../src/faces/detector.js';
import { loadFaceApi } from '../../src/faces/face-api.js';
import { FaceExtractor, type FaceCrop } from '../../src/faces/pipeline.js';
import { HAVE_SAMPLES, cartoonFace, loadSample, shifted } from './samples.js';

let fx: FaceExtractor;
let photo: U8Image;
let all: FaceCrop[];

beforeAll(async () => {
  // the project engine is cpu; detection switches to wasm for its own calls and back
  await cpuEngine().init({ device: 'cpu' });
  fx = await FaceExtractor.create({ detector: 'ssd-mobilenet', select: 'all', align: { size: 128 } });
  if (HAVE_SAMPLES) {
    photo = await loadSample(1, 960);
    all = await fx.extract(photo);
  }
});

afterAll(() => fx?.dispose());

const meanAbsDiff = (a: U8Image, b: U8Image) => a.data.reduce((s, v, i) => s + Math.abs(v - b.data[i]!), 0) / a.data.length;

describe('face-api on the project tfjs', () => {
  it('runs on the very tfjs engine of @dfdet/core, on wasm, and restores the active backend', () => {
    expect(loadFaceApi().tf.engine()).toBe(tf.engine());
    expect(fx.detector.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('validates its options by name', async () => {
    await expect(createFaceDetector('mtcnn')).rejects.toThrow(/unknown face detector "mtcnn"; detectors: ssd-mobilenet/);
    await expect(createFaceDetector('ssd-mobilenet', { min_confidence: 2 })).rejects.toThrow(/face detector ssd-mobilenet: min_confidence:/);
    await expect(createFaceDetector('ssd-mobilenet', { nope: 1 })).rejects.toThrow(/face detector ssd-mobilenet: .*nope/);
    await expect(FaceExtractor.create({ detector: 'ssd-mobilenet', align: { scale: 0.5 } })).rejects.toThrow(/face alignment: scale:/);
  });

  it('reports no face on images without one (a drawn face included), without failing', async () => {
    const flat: U8Image = { data: new Uint8Array(200 * 150 * 3).fill(90), width: 200, height: 150, channels: 3 };
    expect(await fx.extract(flat)).toEqual([]);
    // detectors trained on photographs do not fire on a cartoon; that is expected, and it is reported as no face
    expect(await fx.extract(await cartoonFace())).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
  });
});

describe.skipIf(!HAVE_SAMPLES)('faces in real photographs (face-api demo images)', () => {
  it('finds the three faces of sample1 with 68 landmarks in anatomical order', () => {
    expect(all.length).toBe(3);
    for (const f of all) {
      expect(f.score).toBeGreaterThan(0.9);
      expect(f.landmarks).toHaveLength(68);
      const { x, y, width, height } = f.box;
      const inBox = f.landmarks.filter(([lx, ly]) => lx > x - 0.15 * width && lx < x + 1.15 * width && ly > y - 0.15 * height && ly < y + 1.15 * height);
      expect(inBox.length).toBeGreaterThanOrEqual(64);
      const [le, re, nose, lm, rm] = fivePointsFrom68(f.landmarks, 'centers');
      expect(le![0]).toBeLessThan(re![0]); // the subject's right eye is on the image's left
      expect(lm![0]).toBeLessThan(rm![0]);
      expect(Math.max(le![1], re![1])).toBeLessThan(nose![1] + 0.05 * height);
      expect(nose![1]).toBeLessThan(Math.min(lm![1], rm![1]));
    }
    // largest first
    const areas = all.map((f) => f.box.width * f.box.height);
    expect([...areas].sort((a, b) => b - a)).toEqual(areas);
  });

  it('aligned crops put the keypoints on the DeepfakeBench template and have the requested size', () => {
    const t = deepfakeBenchTemplate(128, 1.3);
    for (const f of all) {
      expect(f.image).toMatchObject({ width: 128, height: 128, channels: 3 });
      const err = f.keypoints.map((p, i) => Math.hypot(applyAffine(f.matrix, p)[0] - t[i]![0], applyAffine(f.matrix, p)[1] - t[i]![1]));
      // a similarity cannot fit 5 real points of a posed head exactly; the residual stays a few pixels
      expect(Math.max(...err)).toBeLessThan(0.08 * 128);
    }
  });

  it('the crop does not depend on where the face is or how large the photo is', async () => {
    const largest = await FaceExtractor.create({ detector: 'ssd-mobilenet', align: { size: 128 } });
    try {
      const moved = await largest.extract(shifted(photo, 37, 23));
      expect(moved).toHaveLength(1);
      expect(meanAbsDiff(moved[0]!.image, all[0]!.image)).toBeLessThan(8);
      const small = await largest.extract(await loadSample(1, 640));
      expect(small).toHaveLength(1);
      // 1.5× fewer pixels: the transform scales up by 1.5 and the crop looks the same (up to resampling)
      const s = (m: number[]) => Math.hypot(m[0]!, m[3]!);
      expect(s(small[0]!.matrix) / s(all[0]!.matrix)).toBeCloseTo(1.5, 1);
      expect(meanAbsDiff(small[0]!.image, all[0]!.image)).toBeLessThan(14);
    } finally {
      largest.dispose();
    }
  });
});
