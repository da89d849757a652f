import sharp from 'sharp';
import { definePlugin, z, type ImageAugmentation, type RgbImage } from '@dfdet/core';
import { checkRgb, gated, probability, range, uniformInt } from './common.js';

export type ChromaSubsampling = '4:2:0' | '4:4:4';

/**
 * Real JPEG round trip through sharp/libvips (baseline, standard quantization tables, optimized
 * Huffman coding): encode at `quality` (1–100), decode back to RGB of the same size.
 * Note: with '4:2:0', libvips still turns chroma subsampling off above quality 90.
 */
export async function jpegRoundTrip(image: RgbImage, quality: number, chroma: ChromaSubsampling = '4:2:0'): Promise<RgbImage> {
  checkRgb(image, 'jpeg');
  const { width, height } = image;
  const encoded = await sharp(image.data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: chroma })
    .toBuffer();
  const { data, info } = await sharp(encoded).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(`jpeg: decoded ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

export const jpegAugmentation = definePlugin({
  kind: 'augmentation',
  name: 'jpeg',
  description: 'image augmentation: JPEG re-compression at a random quality (torchvision v2 JPEG; the paper: quality 40–100)',
  options: z.object({
    quality: range(40, 100, { min: 1, max: 100, int: true }).describe('[min, max]: JPEG quality ~ uniform integer in [min, max] (both inclusive)'),
    chroma_subsampling: z
      .enum(['4:2:0', '4:4:4'])
      .default('4:2:0')
      .describe("'4:2:0' (libjpeg's default, as torchvision; libvips keeps full chroma above quality 90) or '4:4:4'"),
    p: probability(1, 'the paper: always'),
  }),
  create: (o): ImageAugmentation =>
    gated(o.p, 'jpeg', (img, rng) => jpegRoundTrip(img, uniformInt(rng, o.quality[0], o.quality[1]), o.chroma_subsampling)),
});
