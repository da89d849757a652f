import { definePlugin, z, type ImageAugmentation, type RgbImage, type Rng } from '@dfdet/core';
import { checkRgb, gated, probability, toByte, uniform } from './common.js';

/** Concrete jitter: factors (null = op off) and the order ops run in (0 brightness, 1 contrast, 2 saturation, 3 hue). */
export interface ColorJitterParams {
  order: number[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

/** Factor ranges; null = op off. */
export interface ColorJitterRanges {
  brightness: [number, number] | null;
  contrast: [number, number] | null;
  saturation: [number, number] | null;
  hue: [number, number] | null;
}

const GRAY = [0.2989, 0.587, 0.114] as const;

/**
 * torchvision ColorJitter's conversion of an option to a factor range: a number v gives
 * [max(0, 1 − v), 1 + v] (hue: [−v, v]); a pair is taken as is. A range that is exactly the
 * neutral value ([1, 1], hue [0, 0]) turns the op off.
 */
export function jitterRange(value: number | [number, number], kind: 'factor' | 'hue'): [number, number] | null {
  const center = kind === 'hue' ? 0 : 1;
  const r: [number, number] =
    typeof value === 'number' ? (kind === 'hue' ? [-value, value] : [Math.max(0, 1 - value), 1 + value]) : [value[0], value[1]];
  return r[0] === center && r[1] === center ? null : r;
}

/** torchvision v2 order of draws: randperm(4), then brightness, contrast, saturation, hue factors (active ones). */
export function sampleColorJitter(rng: Rng, ranges: ColorJitterRanges): ColorJitterParams {
  const order = rng.permutation(4);
  const draw = (r: [number, number] | null) => (r ? uniform(rng, r[0], r[1]) : null);
  const brightness = draw(ranges.brightness);
  const contrast = draw(ranges.contrast);
  const saturation = draw(ranges.saturation);
  const hue = draw(ranges.hue);
  return { order, brightness, contrast, saturation, hue };
}

const clamp255 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * Applies the ops in `order` with torchvision's formulas: brightness blends with black,
 * contrast with the mean gray level (0.2989 R + 0.587 G + 0.114 B) of the whole image,
 * saturation with each pixel's gray, hue rotates H in HSV by `hue` turns. Each op clamps to
 * [0, 255]; values stay float between ops and are rounded once at the end. All ops off → exact copy.
 */
export function colorJitter(image: RgbImage, params: ColorJitterParams): RgbImage {
  checkRgb(image, 'color-jitter');
  const { data, width, height } = image;
  const n = data.length;
  const px = new Float32Array(n);
  for (let i = 0; i < n; i++) px[i] = data[i]!;
  for (const op of params.order) {
    if (op === 0 && params.brightness !== null) {
      const f = params.brightness;
      for (let i = 0; i < n; i++) px[i] = clamp255(px[i]! * f);
    } else if (op === 1 && params.contrast !== null) {
      const f = params.contrast;
      let sum = 0;
      for (let i = 0; i < n; i += 3) sum += GRAY[0] * px[i]! + GRAY[1] * px[i + 1]! + GRAY[2] * px[i + 2]!;
      const mean = (1 - f) * (sum / (n / 3));
      for (let i = 0; i < n; i++) px[i] = clamp255(f * px[i]! + mean);
    } else if (op === 2 && params.saturation !== null) {
      const f = params.saturation;
      for (let i = 0; i < n; i += 3) {
        const gray = (1 - f) * (GRAY[0] * px[i]! + GRAY[1] * px[i + 1]! + GRAY[2] * px[i + 2]!);
        px[i] = clamp255(f * px[i]! + gray);
        px[i + 1] = clamp255(f * px[i + 1]! + gray);
        px[i + 2] = clamp255(f * px[i + 2]! + gray);
      }
    } else if (op === 3 && params.hue !== null) {
      shiftHue(px, params.hue);
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = toByte(px[i]!);
  return { data: out, width, height };
}

/** In-place H += shift (turns, mod 1) in HSV, torchvision's _rgb2hsv/_hsv2rgb on 0–255 values. */
function shiftHue(px: Float32Array, shift: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i]!;
    const g = px[i + 1]!;
    const b = px[i + 2]!;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const cr = max - min;
    if (cr === 0) continue; // gray: hue is undefined and the pixel is unchanged
    const s = cr / max;
    const rc = (max - r) / cr;
    const gc = (max - g) / cr;
    const bc = (max - b) / cr;
    let h = max === r ? bc - gc : max === g ? 2 + rc - bc : 4 + gc - rc;
    h = h / 6 + shift;
    h -= Math.floor(h);
    const h6 = h * 6;
    const k = Math.floor(h6);
    const f = h6 - k;
    const v = max;
    const p = v * (1 - s);
    const q = v * (1 - s * f);
    const t = v * (1 - s * (1 - f));
    let R: number, G: number, B: number;
    switch (k % 6) {
      case 0: R = v; G = t; B = p; break;
      case 1: R = q; G = v; B = p; break;
      case 2: R = p; G = v; B = t; break;
      case 3: R = p; G = q; B = v; break;
      case 4: R = t; G = p; B = v; break;
      default: R = v; G = p; B = q; break;
    }
    px[i] = clamp255(R);
    px[i + 1] = clamp255(G);
    px[i + 2] = clamp255(B);
  }
}

const factorOption = (dflt: number, what: string) =>
  z
    .union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)]).refine(([a, b]) => a <= b, { message: 'range must be [min, max] with min <= max' })])
    .default(dflt)
    .describe(`${what}: v → factor ~ U(max(0, 1 − v), 1 + v), or an explicit [min, max] factor range; 0 = off`);

const hueValue = z.number().min(-0.5).max(0.5);

export const colorJitterAugmentation = definePlugin({
  kind: 'augmentation',
  name: 'color-jitter',
  description:
    'image augmentation: brightness/contrast/saturation/hue jitter in random order (torchvision ColorJitter; the paper: brightness 0.1, contrast 0.1)',
  options: z.object({
    brightness: factorOption(0.1, 'brightness'),
    contrast: factorOption(0.1, 'contrast'),
    saturation: factorOption(0, 'saturation'),
    hue: z
      .union([z.number().min(0).max(0.5), z.tuple([hueValue, hueValue]).refine(([a, b]) => a <= b, { message: 'range must be [min, max] with min <= max' })])
      .default(0)
      .describe('hue: h → shift ~ U(−h, h) turns of the color wheel (h <= 0.5), or an explicit [min, max]; 0 = off'),
    p: probability(1, 'the paper: always'),
  }),
  create: (o): ImageAugmentation => {
    const ranges: ColorJitterRanges = {
      brightness: jitterRange(o.brightness, 'factor'),
      contrast: jitterRange(o.contrast, 'factor'),
      saturation: jitterRange(o.saturation, 'factor'),
      hue: jitterRange(o.hue, 'hue'),
    };
    return gated(o.p, 'color-jitter', (img, rng) => colorJitter(img, sampleColorJitter(rng, ranges)));
  },
});
