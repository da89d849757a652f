/**
 * Bit-exact re-implementation of Pillow's convolution resampler (`Image.resize` with BICUBIC, BILINEAR, LANCZOS,
 * BOX or HAMMING on an 8-bit image → libImaging/Resample.c `ImagingResample`), written from Pillow's arithmetic:
 *
 * - Separable: a horizontal pass first (only over the source rows the vertical pass will read), its result rounded
 *   and clipped to uint8, then a vertical pass on that uint8 intermediate. A pass is skipped when its axis keeps
 *   its size (Pillow's `need_horizontal` / `need_vertical` for a full-image box).
 * - Per output index `xx` (`precompute_coeffs`): `scale = in/out`, `filterscale = max(scale, 1)`,
 *   `support = filter.support * filterscale`, `center = (xx + 0.5) * scale`,
 *   `xmin = max(0, trunc(center - support + 0.5))`, `xmax = min(in, trunc(center + support + 0.5))`,
 *   weights `w(x) = filter((x - center + 0.5) / filterscale)` for `x ∈ [xmin, xmax)`, normalized by their sum,
 *   all in float64.
 * - Fixed point (`normalize_coeffs_8bpc`): `PRECISION_BITS = 32 - 8 - 2 = 22`; each weight becomes
 *   `trunc(w * 2^22 ± 0.5)` (round half away from zero). Accumulation starts at `2^21` (rounding), sums
 *   `pixel * weight` in integers, and the result is `clip8(acc >> 22)` (floor shift, clamped to [0, 255]).
 *
 * All intermediate sums stay far below 2^31 (|Σk| ≤ ~1.3·2^22, pixels ≤ 255), so JS doubles carry Pillow's int32
 * arithmetic exactly. Pure function: no sharp, no I/O.
 */

/** Pillow's resampling filter codes (`PIL.Image.Resampling`), as stored in HF `preprocessor_config.json` `resample`. */
export const PilResample = {
  NEAREST: 0,
  LANCZOS: 1,
  BILINEAR: 2,
  BICUBIC: 3,
  BOX: 4,
  HAMMING: 5,
} as const;
export type PilResampleCode = (typeof PilResample)[keyof typeof PilResample];

/** An 8-bit interleaved (HWC) image; `channels` defaults to 3 (RGB). */
export interface U8Image {
  data: Uint8Array;
  width: number;
  height: number;
  channels?: number;
}

interface Filter {
  fn: (x: number) => number;
  support: number;
}

const F32_054 = Math.fround(0.54); // Pillow's hamming uses float literals 0.54f / 0.46f
const F32_046 = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const FILTERS: Record<number, Filter> = {
  [PilResample.BOX]: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [PilResample.BILINEAR]: {
    support: 1,
    fn: (x) => {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  [PilResample.HAMMING]: {
    support: 1,
    fn: (x) => {
      const ax = Math.abs(x);
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      const px = ax * Math.PI;
      return (Math.sin(px) / px) * (F32_054 + F32_046 * Math.cos(px));
    },
  },
  [PilResample.BICUBIC]: {
    support: 2,
    // Keys cubic convolution with a = -0.5, in Pillow's Horner form (same float64 operation order).
    fn: (x) => {
      const a = -0.5;
      const ax = x < 0 ? -x : x;
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  [PilResample.LANCZOS]: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS; // 2^22
const HALF = 1 << (PRECISION_BITS - 1); // 2^21

/** Fixed-point resampling coefficients for one axis (Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`). */
export interface AxisCoeffs {
  /** Max taps per output sample (`ksize`). */
  ksize: number;
  /** Per output index: first source index. */
  start: Int32Array;
  /** Per output index: number of taps actually used. */
  count: Int32Array;
  /** `outSize * ksize` int32 weights in units of 2^-22. */
  weights: Int32Array;
}

/** Coefficients mapping `inSize` samples onto `outSize` over the full source range (box = [0, inSize]). */
export function precomputeCoeffs(inSize: number, outSize: number, resample: number): AxisCoeffs {
  const filter = FILTERS[resample];
  if (!filter) throw new Error(`pil-resample: unsupported resample filter ${resample} (supported: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)`);
  const scale = inSize / outSize; // Pillow: (double)(in1 - in0) / outSize with in0 = 0, in1 = inSize (exact in float)
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const invFilterscale = 1 / filterscale;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C `(int)` truncates toward zero; negative values are clamped to 0 right after, so trunc == Pillow here.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * invFilterscale);
      k[x] = w;
      ww += w;
    }
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      // (int)(w * 2^22 ± 0.5): truncation toward zero of the half-offset value.
      weights[base + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { ksize, start, count, weights };
}

/** Pillow's clip8: `acc >> 22` (floor) clamped to [0, 255]. */
function clip8(acc: number): number {
  const v = Math.floor(acc / ONE);
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resize an 8-bit HWC image exactly like Pillow's `Image.resize((outWidth, outHeight), resample)` for a mode whose
 * bands are resampled independently ("L", "RGB", "CMYK", ...). Default filter: BICUBIC. Returns a new image (a copy
 * when the size is unchanged, as Pillow does). NEAREST (0) is not implemented (Pillow routes it through an affine
 * transform, not this resampler). Pillow's Python layer premultiplies alpha for "RGBA"/"LA" before resampling;
 * that is not reproduced here — pass RGB.
 */
export function pilResize(img: U8Image, outWidth: number, outHeight: number, resample: number = PilResample.BICUBIC): U8Image {
  const { width: inW, height: inH } = img;
  const ch = img.channels ?? 3;
  if (!Number.isInteger(inW) || !Number.isInteger(inH) || inW < 1 || inH < 1) {
    throw new Error(`pil-resample: bad input size ${inW}x${inH}`);
  }
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new Error(`pil-resample: output width and height must be positive integers, got ${outWidth}x${outHeight}`);
  }
  if (!Number.isInteger(ch) || ch < 1) throw new Error(`pil-resample: bad channel count ${ch}`);
  if (img.data.length !== inW * inH * ch) {
    throw new Error(`pil-resample: data length ${img.data.length} != ${inW}*${inH}*${ch}`);
  }
  if (!FILTERS[resample]) {
    throw new Error(
      `pil-resample: unsupported resample filter ${resample} (supported: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING; NEAREST=0 is not implemented)`,
    );
  }
  if (outWidth === inW && outHeight === inH) {
    return { data: img.data.slice(), width: inW, height: inH, channels: ch };
  }

  const needH = outWidth !== inW;
  const needV = outHeight !== inH;
  const vert = needV ? precomputeCoeffs(inH, outHeight, resample) : null;

  // Horizontal pass over the source rows [yFirst, yLast) that the vertical pass reads.
  let src = img.data;
  let srcW = inW;
  let rowOffset = 0; // row index in `src` of source row 0's successor mapping (Pillow shifts vertical bounds)
  if (needH) {
    const yFirst = vert ? vert.start[0]! : 0;
    const yLast = vert ? vert.start[outHeight - 1]! + vert.count[outHeight - 1]! : inH;
    const rows = yLast - yFirst;
    const hz = precomputeCoeffs(inW, outWidth, resample);
    const tmp = new Uint8Array(outWidth * rows * ch);
    const { ksize, start, count, weights } = hz;
    for (let y = 0; y < rows; y++) {
      const inRow = (y + yFirst) * inW * ch;
      const outRow = y * outWidth * ch;
      for (let xx = 0; xx < outWidth; xx++) {
        const xmin = start[xx]!;
        const n = count[xx]!;
        const kb = xx * ksize;
        for (let c = 0; c < ch; c++) {
          let acc = HALF;
          let p = inRow + xmin * ch + c;
          for (let x = 0; x < n; x++, p += ch) acc += src[p]! * weights[kb + x]!;
          tmp[outRow + xx * ch + c] = clip8(acc);
        }
      }
    }
    src = tmp;
    srcW = outWidth;
    rowOffset = yFirst;
  }
  if (!vert) return { data: src === img.data ? src.slice() : src, width: srcW, height: inH, channels: ch };

  const out = new Uint8Array(srcW * outHeight * ch);
  const { ksize, start, count, weights } = vert;
  const stride = srcW * ch;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = start[yy]! - rowOffset;
    const n = count[yy]!;
    const kb = yy * ksize;
    const outRow = yy * stride;
    for (let i = 0; i < stride; i++) {
      let acc = HALF;
      let p = ymin * stride + i;
      for (let y = 0; y < n; y++, p += stride) acc += src[p]! * weights[kb + y]!;
      out[outRow + i] = clip8(acc);
    }
  }
  return { data: out, width: srcW, height: outHeight, channels: ch };
}
