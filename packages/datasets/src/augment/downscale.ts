import { definePlugin, z, type ImageAugmentation, type RgbImage } from '@dfdet/core';
import { axisWeights, checkRgb, gated, probability, range, separable, uniform, type AxisWeights } from './common.js';

export type ResizeMethod = 'area' | 'bilinear' | 'nearest';

/**
 * 1-D resampling weights from n source to m output pixels (pixel centers at i + 0.5):
 * area = exact box coverage (OpenCV INTER_AREA when shrinking), bilinear = two taps with
 * half-pixel centers and clamped edges (align_corners=False, no antialiasing), nearest = the
 * source pixel under each output center.
 */
export function resizeWeights(n: number, m: number, method: ResizeMethod): AxisWeights {
  const ratio = n / m;
  const taps: [number, number][][] = [];
  for (let o = 0; o < m; o++) {
    if (method === 'nearest') {
      taps.push([[Math.min(n - 1, Math.floor((o + 0.5) * ratio)), 1]]);
    } else if (method === 'bilinear') {
      const src = Math.min(n - 1, Math.max(0, (o + 0.5) * ratio - 0.5));
      const i0 = Math.floor(src);
      const f = src - i0;
      const i1 = Math.min(n - 1, i0 + 1);
      taps.push(f === 0 || i1 === i0 ? [[i0, 1]] : [[i0, 1 - f], [i1, f]]);
    } else {
      const start = o * ratio;
      const end = (o + 1) * ratio;
      const list: [number, number][] = [];
      for (let i = Math.floor(start); i < Math.min(n, Math.ceil(end)); i++) {
        const cover = Math.min(i + 1, end) - Math.max(i, start);
        if (cover > 1e-12) list.push([i, cover / ratio]);
      }
      taps.push(list);
    }
  }
  return axisWeights(taps);
}

/** Resizes an RGB image (separable, float accumulation, one rounding). Same size → exact copy. */
export function resizeRgb(image: RgbImage, width: number, height: number, method: ResizeMethod): RgbImage {
  checkRgb(image, 'resize');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`resize: invalid size ${width}x${height}`);
  return separable(image, resizeWeights(image.width, width, method), resizeWeights(image.height, height, method));
}

/** Shrinks by `factor` (each side round(side · factor), at least 1 px) with `down`, then back to the original size with `up`. */
export function downscaleUp(image: RgbImage, factor: number, down: ResizeMethod, up: ResizeMethod): RgbImage {
  const w = Math.max(1, Math.round(image.width * factor));
  const h = Math.max(1, Math.round(image.height * factor));
  return resizeRgb(resizeRgb(image, w, h, down), image.width, image.height, up);
}

export const downscaleAugmentation = definePlugin({
  kind: 'augmentation',
  name: 'downscale',
  description: 'image augmentation: resolution loss — shrink by a random factor, then resize back (albumentations Downscale; not in the paper)',
  options: z.object({
    scale: range(0.5, 0.9, { min: 0.01, max: 1 }).describe('[min, max]: shrink factor ~ U(min, max) applied to both sides'),
    down: z.enum(['area', 'bilinear', 'nearest']).default('area').describe('resampling used to shrink'),
    up: z.enum(['bilinear', 'nearest', 'area']).default('bilinear').describe('resampling used to enlarge back'),
    p: probability(0.5, 'albumentations default 0.5'),
  }),
  create: (o): ImageAugmentation => gated(o.p, 'downscale', (img, rng) => downscaleUp(img, uniform(rng, o.scale[0], o.scale[1]), o.down, o.up)),
});
