import { z, type ImageAugmentation, type RgbImage, type Rng } from '@dfdet/core';

/** Throws unless `image` is a consistent HWC uint8 RGB image. */
export function checkRgb(image: RgbImage, who: string): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${who}: invalid image size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new Error(`${who}: expected ${width}x${height}x3 = ${width * height * 3} bytes of RGB, got ${data.length}`);
  }
}

/** Uniform in [lo, hi) (exactly lo when lo == hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Uniform integer in [lo, hi], both inclusive. */
export function uniformInt(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

/** Round and clamp to a byte. */
export function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Reflect-101 index (OpenCV BORDER_REFLECT_101, torch 'reflect'): the edge pixel is not repeated,
 * so −1 → 1 and n → n − 2. Works for any distance outside [0, n).
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * Wraps a deterministic transform with the probability gate. One `rng.next()` is always drawn for
 * the gate (so the stream's consumption does not depend on `p` being 0 or 1); the transform's own
 * draws follow only when it fires. When it does not, the input image is returned unchanged.
 */
export function gated(
  p: number,
  who: string,
  transform: (image: RgbImage, rng: Rng) => RgbImage | Promise<RgbImage>,
): ImageAugmentation {
  return {
    stage: 'image',
    apply(image, rng) {
      checkRgb(image, who);
      if (!(rng.next() < p)) return image;
      return transform(image, rng);
    },
  };
}

/** The shared `p` option. */
export const probability = (dflt: number, note: string) =>
  z.number().min(0).max(1).default(dflt).describe(`probability of applying it to an image (${note})`);

/** A `[min, max]` range option with min <= max. */
export function range(lo: number, hi: number, bounds: { min?: number; max?: number; int?: boolean } = {}) {
  let n = bounds.int ? z.number().int() : z.number();
  if (bounds.min !== undefined) n = n.min(bounds.min);
  if (bounds.max !== undefined) n = n.max(bounds.max);
  return z
    .tuple([n, n])
    .refine(([a, b]) => a <= b, { message: 'range must be [min, max] with min <= max' })
    .default([lo, hi]);
}

/** Separable weights: for each output index, the source indices and weights it mixes. */
export interface AxisWeights {
  /** offsets[o] .. offsets[o + 1] index into `index` / `weight` for output o. */
  offsets: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

export function axisWeights(taps: [number, number][][]): AxisWeights {
  const offsets = new Int32Array(taps.length + 1);
  let total = 0;
  for (let o = 0; o < taps.length; o++) {
    offsets[o] = total;
    total += taps[o]!.length;
  }
  offsets[taps.length] = total;
  const index = new Int32Array(total);
  const weight = new Float32Array(total);
  let k = 0;
  for (const list of taps) {
    for (const [i, w] of list) {
      index[k] = i;
      weight[k] = w;
      k++;
    }
  }
  return { offsets, index, weight };
}

/**
 * Applies separable weights (horizontal pass, then vertical pass) in float32, rounding once at the
 * end. `wx` maps outW outputs from image.width sources, `wy` outH outputs from image.height sources.
 */
export function separable(image: RgbImage, wx: AxisWeights, wy: AxisWeights): RgbImage {
  const { data, width: w, height: h } = image;
  const xo = wx.offsets;
  const xi = wx.index;
  const xw = wx.weight;
  const yo = wy.offsets;
  const yi = wy.index;
  const yw = wy.weight;
  const outW = xo.length - 1;
  const outH = yo.length - 1;
  const stride = outW * 3;
  const tmp = new Float32Array(stride * h);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    let t = y * stride;
    for (let x = 0; x < outW; x++, t += 3) {
      let r = 0;
      let g = 0;
      let b = 0;
      const k1 = xo[x + 1]!;
      for (let k = xo[x]!; k < k1; k++) {
        const s = row + xi[k]! * 3;
        const wt = xw[k]!;
        r += wt * data[s]!;
        g += wt * data[s + 1]!;
        b += wt * data[s + 2]!;
      }
      tmp[t] = r;
      tmp[t + 1] = g;
      tmp[t + 2] = b;
    }
  }
  const out = new Uint8Array(stride * outH);
  const acc = new Float64Array(stride);
  for (let y = 0; y < outH; y++) {
    acc.fill(0);
    const k1 = yo[y + 1]!;
    for (let k = yo[y]!; k < k1; k++) {
      const wt = yw[k]!;
      const src = yi[k]! * stride;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + wt * tmp[src + i]!;
    }
    const orow = y * stride;
    for (let i = 0; i < stride; i++) {
      const v = acc[i]!;
      out[orow + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return { data: out, width: outW, height: outH };
}
