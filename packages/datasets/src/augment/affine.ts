import { definePlugin, z, type ImageAugmentation, type RgbImage, type Rng } from '@dfdet/core';
import { checkRgb, gated, probability, range, reflectIndex, toByte, uniform } from './common.js';

export type AffineInterpolation = 'bilinear' | 'nearest';
export type AffineBorder = 'constant' | 'reflect';

/** One concrete affine warp about the image center. */
export interface AffineParams {
  /** Rotation in degrees, positive = counter-clockwise on screen. */
  angle: number;
  /** Translation in pixels (+x right, +y down), applied after rotation and scaling. */
  tx: number;
  ty: number;
  /** Isotropic zoom (> 1 enlarges the content). */
  scale: number;
}

export interface AffineSampling {
  interpolation: AffineInterpolation;
  /** constant: pixels mapped from outside the image take `fill`; reflect: mirror (reflect-101). */
  border: AffineBorder;
  fill: [number, number, number];
}

/**
 * Warps `image` by out = C + T + R·s·(in − C), with C = ((w − 1)/2, (h − 1)/2) the pixel-grid
 * center (as torchvision). Each output pixel is sampled at the inverse-mapped source position.
 * Identity parameters give back the input bytes exactly.
 */
export function affineWarp(image: RgbImage, params: AffineParams, sampling: AffineSampling): RgbImage {
  checkRgb(image, 'affine');
  const { data, width: w, height: h } = image;
  const rad = (params.angle * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  if (!(params.scale > 0)) throw new Error(`affine: scale must be > 0, got ${params.scale}`);
  const inv = 1 / params.scale;
  // Inverse of the forward matrix [[cos, sin], [−sin, cos]]·s (y down, so this turns CCW on screen).
  const a = cos * inv;
  const b = -sin * inv;
  const c = sin * inv;
  const d = cos * inv;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const out = new Uint8Array(data.length);
  const [f0, f1, f2] = sampling.fill;
  const reflect = sampling.border === 'reflect';
  const nearest = sampling.interpolation === 'nearest';

  // Source offset of pixel (ix, iy), or −1 for the constant fill.
  const offset = (ix: number, iy: number): number => {
    if (ix >= 0 && ix < w && iy >= 0 && iy < h) return (iy * w + ix) * 3;
    return reflect ? (reflectIndex(iy, h) * w + reflectIndex(ix, w)) * 3 : -1;
  };

  let o = 0;
  for (let y = 0; y < h; y++) {
    const v = y - cy - params.ty;
    // sx, sy advance linearly along the row.
    let sx = cx + a * (-cx - params.tx) + b * v;
    let sy = cy + c * (-cx - params.tx) + d * v;
    for (let x = 0; x < w; x++, sx += a, sy += c, o += 3) {
      if (nearest) {
        const s = offset(Math.round(sx), Math.round(sy));
        if (s < 0) {
          out[o] = f0;
          out[o + 1] = f1;
          out[o + 2] = f2;
        } else {
          out[o] = data[s]!;
          out[o + 1] = data[s + 1]!;
          out[o + 2] = data[s + 2]!;
        }
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        // Interior: all four taps inside.
        const s00 = (y0 * w + x0) * 3;
        const s01 = s00 + w * 3;
        for (let k = 0; k < 3; k++) {
          out[o + k] = toByte(w00 * data[s00 + k]! + w10 * data[s00 + 3 + k]! + w01 * data[s01 + k]! + w11 * data[s01 + 3 + k]!);
        }
        continue;
      }
      const s00 = w00 === 0 ? -2 : offset(x0, y0);
      const s10 = w10 === 0 ? -2 : offset(x0 + 1, y0);
      const s01 = w01 === 0 ? -2 : offset(x0, y0 + 1);
      const s11 = w11 === 0 ? -2 : offset(x0 + 1, y0 + 1);
      for (let k = 0; k < 3; k++) {
        const fill = k === 0 ? f0 : k === 1 ? f1 : f2;
        let acc = 0;
        if (s00 !== -2) acc += w00 * (s00 < 0 ? fill : data[s00 + k]!);
        if (s10 !== -2) acc += w10 * (s10 < 0 ? fill : data[s10 + k]!);
        if (s01 !== -2) acc += w01 * (s01 < 0 ? fill : data[s01 + k]!);
        if (s11 !== -2) acc += w11 * (s11 < 0 ? fill : data[s11 + k]!);
        out[o + k] = toByte(acc);
      }
    }
  }
  return { data: out, width: w, height: h };
}

export interface AffineOptions {
  degrees: number;
  translate: [number, number];
  scale: [number, number];
}

/**
 * torchvision RandomAffine's draws, in its order: angle ~ U(−degrees, degrees);
 * tx = round(U(−tx·W, tx·W)), ty = round(U(−ty·H, ty·H)) (whole pixels); scale ~ U(min, max).
 */
export function sampleAffine(rng: Rng, o: AffineOptions, width: number, height: number): AffineParams {
  const angle = uniform(rng, -o.degrees, o.degrees);
  const mx = o.translate[0] * width;
  const my = o.translate[1] * height;
  const tx = Math.round(uniform(rng, -mx, mx));
  const ty = Math.round(uniform(rng, -my, my));
  const scale = uniform(rng, o.scale[0], o.scale[1]);
  return { angle, tx, ty, scale };
}

const channel = z.number().int().min(0).max(255);

export const affineAugmentation = definePlugin({
  kind: 'augmentation',
  name: 'affine',
  description:
    'image augmentation: random rotation + translation + zoom about the center (torchvision RandomAffine; the paper: degrees 10, translate 0.1, scale 0.9–1.1)',
  options: z.object({
    degrees: z.number().min(0).max(180).default(10).describe('rotation angle ~ U(−degrees, degrees)'),
    translate: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
      .default([0.1, 0.1])
      .describe('[x, y] max shift as a fraction of width/height; shifts are rounded to whole pixels'),
    scale: range(0.9, 1.1, { min: 0.01 }).describe('[min, max]: zoom factor ~ U(min, max) (> 1 enlarges)'),
    interpolation: z
      .enum(['bilinear', 'nearest'])
      .default('bilinear')
      .describe("resampling: 'bilinear', or 'nearest' (torchvision's default, what the paper used)"),
    border: z
      .enum(['constant', 'reflect'])
      .default('constant')
      .describe("pixels from outside the image: 'constant' (fill; torchvision, the paper) or 'reflect' (mirror without repeating the edge, OpenCV BORDER_REFLECT_101)"),
    fill: z
      .union([channel, z.tuple([channel, channel, channel])])
      .default(0)
      .describe("border color for border 'constant': a gray level or [r, g, b]"),
    p: probability(1, 'the paper: always'),
  }),
  create: (o): ImageAugmentation => {
    const fill: [number, number, number] = typeof o.fill === 'number' ? [o.fill, o.fill, o.fill] : o.fill;
    const sampling: AffineSampling = { interpolation: o.interpolation, border: o.border, fill };
    return gated(o.p, 'affine', (img, rng) => affineWarp(img, sampleAffine(rng, o, img.width, img.height), sampling));
  },
});
