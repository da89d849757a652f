import { definePlugin, z, type ImageAugmentation, type RgbImage } from '@dfdet/core';
import { axisWeights, checkRgb, gated, probability, range, reflectIndex, separable, uniform } from './common.js';

/** Kernel size used when none is given: 2·ceil(3σ) + 1 (at least 3). */
export function autoKernelSize(sigma: number): number {
  return 2 * Math.max(1, Math.ceil(3 * sigma)) + 1;
}

/** torchvision's 1-D Gaussian: taps at −(k−1)/2 … (k−1)/2, exp(−x²/2σ²), normalized to sum 1. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new Error(`gaussian-blur: kernel size must be odd and positive, got ${size}`);
  if (!(sigma > 0)) throw new Error(`gaussian-blur: sigma must be > 0, got ${sigma}`);
  const k = new Float64Array(size);
  const half = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const x = i - half;
    k[i] = Math.exp(-0.5 * (x / sigma) ** 2);
    sum += k[i]!;
  }
  for (let i = 0; i < size; i++) k[i]! /= sum;
  return k;
}

function convWeights(n: number, kernel: Float64Array) {
  const half = (kernel.length - 1) / 2;
  const taps: [number, number][][] = [];
  for (let o = 0; o < n; o++) {
    const list: [number, number][] = [];
    for (let t = 0; t < kernel.length; t++) list.push([reflectIndex(o + t - half, n), kernel[t]!]);
    taps.push(list);
  }
  return axisWeights(taps);
}

/**
 * Separable Gaussian blur with reflect-101 borders (torchvision pads with 'reflect'), float
 * accumulation and one rounding. `kernel` is [kx, ky] (odd); default: autoKernelSize(sigma) both ways.
 */
export function gaussianBlur(image: RgbImage, sigma: number, kernel?: [number, number]): RgbImage {
  checkRgb(image, 'gaussian-blur');
  const [kx, ky] = kernel ?? [autoKernelSize(sigma), autoKernelSize(sigma)];
  return separable(image, convWeights(image.width, gaussianKernel(kx, sigma)), convWeights(image.height, gaussianKernel(ky, sigma)));
}

const odd = z.number().int().min(1).max(99).refine((k) => k % 2 === 1, { message: 'kernel sizes must be odd' });

export const gaussianBlurAugmentation = definePlugin({
  kind: 'augmentation',
  name: 'gaussian-blur',
  description: 'image augmentation: Gaussian blur with sigma ~ U(min, max) (torchvision GaussianBlur; the paper: sigma 0.1–2.0)',
  options: z.object({
    sigma: range(0.1, 2, { min: 0.01, max: 20 }).describe('[min, max]: blur sigma in pixels ~ U(min, max), same both ways'),
    kernel_size: z
      .tuple([odd, odd])
      .nullable()
      .default(null)
      .describe(
        'odd kernel [width, height]; null: 2·ceil(3σ)+1 both ways. The paper passed torchvision kernel_size=(3, 7), i.e. width 3 × height 7 (not a range): set [3, 7] to reproduce it',
      ),
    p: probability(1, 'the paper: always'),
  }),
  create: (o): ImageAugmentation =>
    gated(o.p, 'gaussian-blur', (img, rng) => gaussianBlur(img, uniform(rng, o.sigma[0], o.sigma[1]), o.kernel_size ?? undefined)),
});
