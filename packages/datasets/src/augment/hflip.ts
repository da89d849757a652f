import { definePlugin, z, type ImageAugmentation, type RgbImage } from '@dfdet/core';
import { checkRgb, gated, probability } from './common.js';

/** Mirror left ↔ right (exact: applying it twice gives back the input bytes). */
export function hflip(image: RgbImage): RgbImage {
  checkRgb(image, 'hflip');
  const { data, width: w, height: h } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = row + x * 3;
      const d = row + (w - 1 - x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { data: out, width: w, height: h };
}

export const hflipAugmentation = definePlugin({
  kind: 'augmentation',
  name: 'hflip',
  description: 'image augmentation: horizontal flip with probability p (torchvision RandomHorizontalFlip)',
  options: z.object({
    p: probability(0.5, 'the paper: 0.5'),
  }),
  create: (o): ImageAugmentation => gated(o.p, 'hflip', (img) => hflip(img)),
});
