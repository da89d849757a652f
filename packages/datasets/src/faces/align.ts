/**
 * DeepfakeBench-style face alignment (preprocessing/preprocess.py, `img_align_crop`), in TypeScript:
 *
 *   68 landmarks → 5 keypoints → similarity transform (Umeyama least squares, as skimage's
 *   `SimilarityTransform.estimate`) onto the ArcFace 112×112 template scaled to the output size with a
 *   crop scale (1.3) margin → `cv2.warpAffine(img, M, (size, size))` (bilinear, constant-0 border).
 *
 * The template is computed with DeepfakeBench's float32 arithmetic, and the warp reproduces OpenCV's
 * fixed-point bilinear warp (1/32-pixel coordinate grid, 15-bit weights) bit for bit, so given the same
 * keypoints the crop is the one DeepfakeBench writes.
 */
import type { U8Image } from '@dfdet/models';

export type Point = readonly [number, number];

/** A 2×3 affine matrix `[a, b, c, d, e, f]`: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = [number, number, number, number, number, number];

/** The ArcFace (insightface) 5-point template for 112×96 crops: left eye, right eye, nose tip, left/right mouth corner. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  [30.2946, 51.6963],
  [65.5318, 51.5014],
  [48.0252, 71.7366],
  [33.5493, 92.3655],
  [62.7299, 92.2041],
];

/**
 * How the 5 keypoints come from the 68 iBUG landmarks (0-based indices):
 * - `deepfakebench` (default): single points 37, 44, 30, 49, 55, exactly what DeepfakeBench's `get_keypts` takes
 *   from dlib (upper eyelids and inner upper-lip points, not the eye centers and mouth corners). The paper trained
 *   and tested on crops made this way; re-cropping one of its released DeepfakeBench crops with this mode gives a
 *   near-identity transform, while `centers` shifts the face by ~15 px at 256 px;
 * - `centers`: eye centers = mean of 36–41 / 42–47, nose tip 30, mouth corners 48 and 54 (the insightface convention).
 */
export const KEYPOINT_MODES = ['centers', 'deepfakebench'] as const;
export type KeypointMode = (typeof KEYPOINT_MODES)[number];

export function fivePointsFrom68(landmarks: readonly Point[], mode: KeypointMode = 'deepfakebench'): Point[] {
  if (landmarks.length < 68) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  const p = (i: number): Point => [landmarks[i]![0], landmarks[i]![1]];
  if (mode === 'deepfakebench') return [p(37), p(44), p(30), p(49), p(55)];
  const mean = (from: number, to: number): Point => {
    let x = 0;
    let y = 0;
    for (let i = from; i <= to; i++) {
      x += landmarks[i]![0];
      y += landmarks[i]![1];
    }
    const n = to - from + 1;
    return [x / n, y / n];
  };
  return [mean(36, 41), mean(42, 47), p(30), p(48), p(54)];
}

/**
 * The template in output pixels, as DeepfakeBench computes it (float32 arithmetic):
 * x += 8 (112×96 → 112×112), scale to `size`/112, add the margin `size·(scale−1)/2`, then shrink by
 * `size / (size + 2·margin)` so the face occupies 1/scale of the crop.
 */
export function deepfakeBenchTemplate(size: number, scale = 1.3): Point[] {
  const f = Math.fround;
  const margin = (size * (scale - 1)) / 2;
  const shrink = size / (size + 2 * margin);
  return ARCFACE_TEMPLATE_112.map(([x0, y0]) => {
    let x = f(f(x0) + 8);
    let y = f(y0);
    x = f(f(x * size) / 112);
    y = f(f(y * size) / 112);
    x = f(x + f(margin));
    y = f(y + f(margin));
    x = f(x * f(shrink));
    y = f(y * f(shrink));
    return [x, y] as Point;
  });
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) mapping `src` onto `dst`:
 * Umeyama (1991), as skimage's `SimilarityTransform.estimate`. In 2-D it has a closed form: with centered points,
 * the rotation angle is atan2(Σ(x·v − y·u), Σ(x·u + y·v)) and the scale is the norm of those sums over Σ|src|².
 */
export function umeyama(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) throw new Error(`umeyama: need ≥ 2 point pairs of equal count, got ${src.length} and ${dst.length}`);
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let a = 0; // Σ (x·u + y·v)
  let b = 0; // Σ (x·v − y·u)
  let varSrc = 0;
  for (let i = 0; i < n; i++) {
    const x = src[i]![0] - sx;
    const y = src[i]![1] - sy;
    const u = dst[i]![0] - dx;
    const v = dst[i]![1] - dy;
    a += x * u + y * v;
    b += x * v - y * u;
    varSrc += x * x + y * y;
  }
  if (!(varSrc > 0)) throw new Error('umeyama: the source points coincide');
  const norm = Math.hypot(a, b);
  const s = norm / varSrc;
  const cos = norm > 0 ? a / norm : 1;
  const sin = norm > 0 ? b / norm : 0;
  const m00 = s * cos;
  const m01 = -s * sin;
  const m10 = s * sin;
  const m11 = s * cos;
  return [m00, m01, dx - (m00 * sx + m01 * sy), m10, m11, dy - (m10 * sx + m11 * sy)];
}

export function applyAffine(m: Affine, [x, y]: Point): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (det === 0) throw new Error('invertAffine: singular matrix');
  const a = m[4] / det;
  const b = -m[1] / det;
  const d = -m[3] / det;
  const e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

// ------------------------------------------------------------------------------------------------------------------
// cv2.warpAffine(src, M, (w, h)), INTER_LINEAR, BORDER_CONSTANT 0 — OpenCV's fixed-point algorithm
// ------------------------------------------------------------------------------------------------------------------

const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const ROUND_DELTA = AB_SCALE / INTER_TAB_SIZE / 2;

/** OpenCV's `cvRound` / `saturate_cast<int>(double)`: round half to even, saturated to int32. */
function cvRound(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r > 2147483647 ? 2147483647 : r < -2147483648 ? -2147483648 : r;
}

const satShort = (v: number) => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);

/**
 * `cv2.warpAffine(img, M, (outWidth, outHeight))` with the default flags (M maps source → destination,
 * bilinear, border value 0). Pixel coordinates are pixel centers (no half-pixel shift), like OpenCV.
 * Bit-exact with OpenCV's fixed-point path: the inverse map is sampled on a 1/32-pixel grid and the four
 * weights are products of 1/32 steps, rounded once.
 */
export function warpAffine(img: U8Image, m: Affine, outWidth: number, outHeight: number): U8Image {
  const c = img.channels ?? 3;
  const { width: w, height: h, data: src } = img;
  const inv = invertAffineCv(m);
  const out = new Uint8Array(outWidth * outHeight * c);
  const adelta = new Int32Array(outWidth);
  const bdelta = new Int32Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    adelta[x] = cvRound(inv[0] * x * AB_SCALE);
    bdelta[x] = cvRound(inv[3] * x * AB_SCALE);
  }
  const shift = AB_BITS - INTER_BITS;
  for (let y = 0; y < outHeight; y++) {
    const X0 = cvRound((inv[1] * y + inv[2]) * AB_SCALE) + ROUND_DELTA;
    const Y0 = cvRound((inv[4] * y + inv[5]) * AB_SCALE) + ROUND_DELTA;
    for (let x = 0; x < outWidth; x++) {
      const X = (X0 + adelta[x]!) >> shift;
      const Y = (Y0 + bdelta[x]!) >> shift;
      const sx = satShort(X >> INTER_BITS);
      const sy = satShort(Y >> INTER_BITS);
      const fx = X & (INTER_TAB_SIZE - 1);
      const fy = Y & (INTER_TAB_SIZE - 1);
      const o = (y * outWidth + x) * c;
      if (sx >= w || sx + 1 < 0 || sy >= h || sy + 1 < 0) continue; // wholly outside: border value 0
      // weights in units of 1/1024: (32−fy)(32−fx), (32−fy)fx, fy(32−fx), fy·fx (OpenCV stores them ×32 in 15 bits)
      const w00 = (INTER_TAB_SIZE - fy) * (INTER_TAB_SIZE - fx);
      const w01 = (INTER_TAB_SIZE - fy) * fx;
      const w10 = fy * (INTER_TAB_SIZE - fx);
      const w11 = fy * fx;
      const in0 = sy >= 0 && sy < h;
      const in1 = sy + 1 >= 0 && sy + 1 < h;
      const inx0 = sx >= 0 && sx < w;
      const inx1 = sx + 1 >= 0 && sx + 1 < w;
      const p00 = in0 && inx0 ? (sy * w + sx) * c : -1;
      const p01 = in0 && inx1 ? (sy * w + sx + 1) * c : -1;
      const p10 = in1 && inx0 ? ((sy + 1) * w + sx) * c : -1;
      const p11 = in1 && inx1 ? ((sy + 1) * w + sx + 1) * c : -1;
      for (let k = 0; k < c; k++) {
        const v =
          (p00 >= 0 ? src[p00 + k]! * w00 : 0) +
          (p01 >= 0 ? src[p01 + k]! * w01 : 0) +
          (p10 >= 0 ? src[p10 + k]! * w10 : 0) +
          (p11 >= 0 ? src[p11 + k]! * w11 : 0);
        const r = (v + 512) >> 10;
        out[o + k] = r > 255 ? 255 : r;
      }
    }
  }
  return { data: out, width: outWidth, height: outHeight, channels: c };
}

/** The inverse as cv::warpAffine computes it (same operation order, so the same doubles). */
function invertAffineCv(m: Affine): Affine {
  let D = m[0] * m[4] - m[1] * m[3];
  D = D !== 0 ? 1 / D : 0;
  const A11 = m[4] * D;
  const A22 = m[0] * D;
  const M1 = m[1] * -D;
  const M3 = m[3] * -D;
  const b1 = -A11 * m[2] - M1 * m[5];
  const b2 = -M3 * m[2] - A22 * m[5];
  return [A11, M1, b1, M3, A22, b2];
}

// ------------------------------------------------------------------------------------------------------------------
// the whole crop
// ------------------------------------------------------------------------------------------------------------------

export interface AlignOptions {
  /** Output side in pixels (DeepfakeBench: 256). */
  size: number;
  /** The face occupies 1/scale of the crop (DeepfakeBench: 1.3). */
  scale: number;
  keypoints: KeypointMode;
}

export interface AlignedCrop {
  image: U8Image;
  /** source → crop. */
  matrix: Affine;
  /** The 5 keypoints used, in source pixels. */
  keypoints: Point[];
}

/** The transform DeepfakeBench estimates: 5 source keypoints (float32, as it casts them) onto the template. */
export function alignmentMatrix(keypoints5: readonly Point[], size: number, scale: number): Affine {
  const src = keypoints5.map(([x, y]) => [Math.fround(x), Math.fround(y)] as Point);
  return umeyama(src, deepfakeBenchTemplate(size, scale));
}

/** Crops one face given its 68 landmarks. */
export function alignFace(img: U8Image, landmarks68: readonly Point[], opts: AlignOptions): AlignedCrop {
  const keypoints = fivePointsFrom68(landmarks68, opts.keypoints);
  const matrix = alignmentMatrix(keypoints, opts.size, opts.scale);
  return { image: warpAffine(img, matrix, opts.size, opts.size), matrix, keypoints };
}
