/**
 * Real photographs with faces for the tests: the demo images `@vladmandic/face-api` ships in its npm package
 * (read in place from node_modules, never copied into the repository).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { U8Image } from '@dfdet/models';

const require = createRequire(import.meta.url);

/** `demo/sample<i>.jpg`: 1 = three people (posed), 6 = four people. */
export function samplePath(i: number): string {
  return join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', `sample${i}.jpg`);
}

export const HAVE_SAMPLES = existsSync(samplePath(1)) && existsSync(samplePath(6));

/** The sample resized to `width` (RGB). */
export async function loadSample(i: number, width: number): Promise<U8Image> {
  const { data, info } = await sharp(samplePath(i)).resize(width).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/** One face of sample 1: the 220×220 region around its rightmost person (at width 640), scaled to `side`. */
export async function singleFace(side = 440): Promise<U8Image> {
  const small = await sharp(samplePath(1)).resize(640).toBuffer();
  const { data, info } = await sharp(small)
    .extract({ left: 420, top: 0, width: 220, height: 220 })
    .resize(side, side)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/** A face-like drawing (skin ellipse, eyes, brows, nose, mouth) that face detectors trained on photos ignore. */
export async function cartoonFace(size = 256): Promise<U8Image> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256"><rect width="256" height="256" fill="#6a8"/>
<ellipse cx="128" cy="130" rx="70" ry="90" fill="#f1c9a5"/><ellipse cx="100" cy="110" rx="12" ry="7" fill="#fff"/>
<ellipse cx="156" cy="110" rx="12" ry="7" fill="#fff"/><circle cx="100" cy="110" r="5" fill="#321"/><circle cx="156" cy="110" r="5" fill="#321"/>
<path d="M128 120 L120 155 L136 155 Z" fill="#d9a783"/><path d="M100 180 Q128 195 156 180" stroke="#a33" stroke-width="6" fill="none"/>
<path d="M85 95 Q100 88 115 95 M141 95 Q156 88 171 95" stroke="#432" stroke-width="4" fill="none"/></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).resize(size).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/** Pads an image by (left, top) pixels of black. */
export function shifted(img: U8Image, left: number, top: number): U8Image {
  const w = img.width + left;
  const h = img.height + top;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * w + left) * 3);
  return { data, width: w, height: h, channels: 3 };
}
