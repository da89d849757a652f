import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { U8Image } from '@dfdet/models';
import {
  alignFace,
  alignmentMatrix,
  applyAffine,
  deepfakeBenchTemplate,
  fivePointsFrom68,
  invertAffine,
  umeyama,
  warpAffine,
  type Affine,
  type Point,
} from '../../src/faces/align.js';

interface RefCase {
  name: string;
  landmarks5: [number, number][];
  size: number;
  scale: number;
  template: [number, number][];
  M: [number[], number[]];
  crop: number[];
}
/** Made by fixtures/make_align_ref.py with OpenCV 4.6 and skimage 0.19 (DeepfakeBench's img_align_crop verbatim). */
const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'align_ref.json'), 'utf8')) as {
  image: { width: number; height: number };
  cases: RefCase[];
};

function refImage(w: number, h: number): U8Image {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      data[o] = (x * 7 + y * 3) % 256;
      data[o + 1] = (x * x + 5 * y) % 256;
      data[o + 2] = (Math.floor(x / 4) * 40 + Math.floor(y / 4) * 25 + x * y) % 256;
    }
  return { data, width: w, height: h, channels: 3 };
}

/** 68 landmarks whose 5 keypoints (both conventions) are the given points. */
function landmarksWith(five: readonly Point[]): Point[] {
  const lm: Point[] = Array.from({ length: 68 }, () => [0, 0] as Point);
  const put = (idx: number[], p: Point) => idx.forEach((i) => (lm[i] = p));
  put([36, 37, 38, 39, 40, 41], five[0]!);
  put([42, 43, 44, 45, 46, 47], five[1]!);
  put([30], five[2]!);
  put([48, 49], five[3]!);
  put([54, 55], five[4]!);
  return lm;
}

const flatM = (m: RefCase['M']): Affine => [...m[0], ...m[1]] as Affine;

describe('DeepfakeBench alignment math', () => {
  it('the template is DeepfakeBench\'s float32 computation, exactly', () => {
    for (const c of ref.cases) expect(deepfakeBenchTemplate(c.size, c.scale)).toEqual(c.template);
    // 256 px, scale 1.3: the ArcFace eyes land where (x+8)·256/112 + 38.4, then /1.3, puts them
    const t = deepfakeBenchTemplate(256, 1.3);
    expect(t[0]![0]).toBeCloseTo(((30.2946 + 8) * 256) / 112 / 1.3 + 38.4 / 1.3, 4);
    expect(t[2]![1]).toBeCloseTo(((71.7366 * 256) / 112 + 38.4) / 1.3, 4);
  });

  it('Umeyama recovers an exact similarity transform and matches skimage on noisy points', () => {
    const theta = 0.3;
    const s = 1.7;
    const want: Affine = [s * Math.cos(theta), -s * Math.sin(theta), 5, s * Math.sin(theta), s * Math.cos(theta), -3];
    const src: Point[] = [[1, 2], [10, 3], [6, 8], [2, 12], [9, 12]];
    const m = umeyama(src, src.map((p) => applyAffine(want, p)));
    m.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    for (const c of ref.cases) {
      const ours = alignmentMatrix(c.landmarks5, c.size, c.scale);
      // skimage runs its SVD in float32 on DeepfakeBench's float32 inputs; we solve in float64
      ours.forEach((v, i) => expect(Math.abs(v - flatM(c.M)[i]!), `${c.name} M[${i}]`).toBeLessThan(2e-5 * Math.max(1, Math.abs(v))));
    }
  });

  it('5 keypoints from 68: eye centers / nose 30 / mouth 48, 54, or DeepfakeBench\'s single points', () => {
    const lm: Point[] = Array.from({ length: 68 }, (_, i) => [i, 100 + i] as Point);
    expect(fivePointsFrom68(lm, 'centers')).toEqual([[38.5, 138.5], [44.5, 144.5], [30, 130], [48, 148], [54, 154]]);
    expect(fivePointsFrom68(lm, 'deepfakebench')).toEqual([[37, 137], [44, 144], [30, 130], [49, 149], [55, 155]]);
    expect(() => fivePointsFrom68(lm.slice(0, 5))).toThrow(/68 landmarks/);
  });

  it('crop corners: landmarks at 2× the template + offset give a crop whose corners sample (10, 20) and (10+2(S−1), 20+2(S−1))', () => {
    const S = 32;
    const t = deepfakeBenchTemplate(S, 1.3);
    const five = t.map(([x, y]) => [2 * x + 10, 2 * y + 20] as Point);
    // coordinates encoded in the pixels: r = x, g = y
    const W = 120;
    const H = 120;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x, y, 7], (y * W + x) * 3);
    const crop = alignFace({ data, width: W, height: H, channels: 3 }, landmarksWith(five), { size: S, scale: 1.3, keypoints: 'centers' });
    crop.matrix.forEach((v, i) => expect(v).toBeCloseTo([0.5, 0, -5, 0, 0.5, -10][i]!, 5));
    const at = (x: number, y: number) => [...crop.image.data.subarray((y * S + x) * 3, (y * S + x) * 3 + 3)];
    expect(at(0, 0)).toEqual([10, 20, 7]);
    expect(at(S - 1, 0)).toEqual([10 + 2 * (S - 1), 20, 7]);
    expect(at(0, S - 1)).toEqual([10, 20 + 2 * (S - 1), 7]);
    expect(at(S - 1, S - 1)).toEqual([10 + 2 * (S - 1), 20 + 2 * (S - 1), 7]);
    // the keypoints land on the template
    crop.keypoints.forEach((p, i) => {
      const q = applyAffine(crop.matrix, p);
      expect(q[0]).toBeCloseTo(t[i]![0], 4);
      expect(q[1]).toBeCloseTo(t[i]![1], 4);
    });
  });

  it('a face rotated by 90° comes out upright; outside the image is black', () => {
    const S = 24;
    const t = deepfakeBenchTemplate(S, 1.3);
    // rotate the template by +90° about (12, 12): (x, y) → (24 − y, x), then shift by (30, 30)
    const five = t.map(([x, y]) => [S - y + 30, x + 30] as Point);
    const W = 64;
    const H = 64;
    const data = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data.set([x * 3, y * 3, 200], (y * W + x) * 3);
    const crop = alignFace({ data, width: W, height: H, channels: 3 }, landmarksWith(five), { size: S, scale: 1.3, keypoints: 'centers' });
    // crop (u, v) samples source (S − v + 30, u + 30)
    const at = (x: number, y: number) => [...crop.image.data.subarray((y * S + x) * 3, (y * S + x) * 3 + 3)];
    expect(at(0, 0)).toEqual([(S + 30) * 3, 30 * 3, 200]);
    expect(at(5, 9)).toEqual([(S - 9 + 30) * 3, 35 * 3, 200]);
    const m = invertAffine(crop.matrix);
    expect(applyAffine(m, [0, 0])[0]).toBeCloseTo(S + 30, 4);
    // a face near the corner: part of the crop falls outside the source image → zeros
    const edge = alignFace({ data, width: W, height: H, channels: 3 }, landmarksWith(t.map(([x, y]) => [x + 50, y + 50] as Point)), {
      size: S,
      scale: 1.3,
      keypoints: 'centers',
    });
    expect([...edge.image.data.subarray((S * S - 1) * 3)]).toEqual([0, 0, 0]);
  });
});

describe('warpAffine is cv2.warpAffine bit for bit', () => {
  const img = refImage(ref.image.width, ref.image.height);
  for (const c of ref.cases) {
    it(`${c.name}: with skimage's matrix the crop equals OpenCV's`, () => {
      const out = warpAffine(img, flatM(c.M), c.size, c.size);
      expect(out.width).toBe(c.size);
      const diff = [...out.data].filter((v, i) => v !== c.crop[i]).length;
      expect(diff).toBe(0);
    });
    it(`${c.name}: the whole alignFace pipeline (our float64 Umeyama) gives DeepfakeBench's crop`, () => {
      const crop = alignFace(img, landmarksWith(c.landmarks5.map(([x, y]) => [x, y] as Point)), { size: c.size, scale: c.scale, keypoints: 'centers' });
      let maxDiff = 0;
      let n = 0;
      crop.image.data.forEach((v, i) => {
        const d = Math.abs(v - c.crop[i]!);
        if (d) n++;
        maxDiff = Math.max(maxDiff, d);
      });
      // the matrices differ in the 6th digit (skimage's float32 SVD); that moves at most a rare 1/32-pixel grid step
      expect(n / crop.image.data.length).toBeLessThan(0.01);
      expect(maxDiff).toBeLessThanOrEqual(8);
    });
  }
});
