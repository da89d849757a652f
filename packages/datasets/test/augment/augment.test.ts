import sharp from 'sharp';
import { PluginRegistry, SeededRng, pluginModule, type BuildContext, type ImageAugmentation, type RgbImage } from '@dfdet/core';
import { describe, expect, it } from 'vitest';
import {
  PAPER_AUGMENTATIONS,
  affineWarp,
  augmentationPlugins,
  colorJitter,
  downscaleUp,
  gaussianBlur,
  gaussianKernel,
  hflip,
  jitterRange,
  jpegRoundTrip,
  reflectIndex,
  resizeRgb,
  type AffineSampling,
} from '../../src/augment/index.js';

/** A deterministic textured color image (gradients + a pseudo-random pattern). */
function testImage(width = 48, height = 40, seed = 1): RgbImage {
  const rng = new SeededRng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((x / (width - 1)) * 200) + rng.int(40);
      data[i + 1] = Math.round((y / (height - 1)) * 200) + rng.int(40);
      data[i + 2] = (x * 7 + y * 13) % 256;
    }
  }
  return { data, width, height };
}

const registry = new PluginRegistry([pluginModule(...augmentationPlugins)]);
const ctx: BuildContext = { seed: 0, registry };
const make = (config: { name: string; [k: string]: unknown } | string) => registry.create<ImageAugmentation>('augmentation', config, ctx);
const run = async (aug: ImageAugmentation, img: RgbImage, seed: number) => aug.apply(img, new SeededRng(seed));
const copy = (img: RgbImage): RgbImage => ({ ...img, data: Uint8Array.from(img.data) });
const same = (a: RgbImage, b: RgbImage) => a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));
const meanAbsDiff = (a: RgbImage, b: RgbImage) => {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += Math.abs(a.data[i]! - b.data[i]!);
  return s / a.data.length;
};

const NAMES = ['hflip', 'affine', 'gaussian-blur', 'color-jitter', 'jpeg', 'downscale'];
/** Settings under which every plugin visibly changes the test image when it fires. */
const STRONG: Record<string, Record<string, unknown>> = {
  hflip: {},
  affine: { degrees: 20 },
  'gaussian-blur': { sigma: [1, 2] },
  'color-jitter': { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 },
  jpeg: { quality: [40, 60] },
  downscale: { scale: [0.3, 0.5] },
};

describe('augmentation plugins (through the registry)', () => {
  it('registers every image augmentation by name', () => {
    expect(registry.names('augmentation')).toEqual([...NAMES].sort());
    for (const spec of augmentationPlugins) expect(spec.kind).toBe('augmentation');
  });

  it('builds with defaults as image-stage augmentations', async () => {
    for (const name of NAMES) expect((await make(name)).stage).toBe('image');
  });

  it('is deterministic: same seed → same bytes; output keeps the size', async () => {
    const img = testImage();
    for (const name of NAMES) {
      const aug = await make({ name, ...STRONG[name], p: 1 });
      const a = await run(aug, img, 11);
      const b = await run(aug, img, 11);
      expect(a.width, name).toBe(img.width);
      expect(a.height, name).toBe(img.height);
      expect(a.data.length, name).toBe(img.data.length);
      expect(same(a, b), name).toBe(true);
    }
  });

  it('different seeds give different results for the random ones', async () => {
    const img = testImage();
    for (const name of NAMES.filter((n) => n !== 'hflip')) {
      const aug = await make({ name, ...STRONG[name], p: 1 });
      const outs = await Promise.all([1, 2, 3].map((s) => run(aug, img, s)));
      expect(same(outs[0]!, outs[1]!) && same(outs[1]!, outs[2]!), name).toBe(false);
    }
  });

  it('p = 0 is the identity and leaves the input untouched', async () => {
    const img = testImage();
    const before = copy(img);
    for (const name of NAMES) {
      const aug = await make({ name, ...STRONG[name], p: 0 });
      for (const seed of [1, 2, 3]) expect(same(await run(aug, img, seed), before), name).toBe(true);
    }
    expect(same(img, before)).toBe(true);
  });

  it('p = 1 changes the image and does not mutate the input', async () => {
    const img = testImage();
    const before = copy(img);
    for (const name of NAMES) {
      const aug = await make({ name, ...STRONG[name], p: 1 });
      const out = await run(aug, img, 5);
      expect(meanAbsDiff(out, img), name).toBeGreaterThan(0.5);
      expect(same(img, before), name).toBe(true);
    }
  });

  it('p = 0.5 fires on roughly half of the samples', async () => {
    const img = testImage(8, 8);
    const aug = await make('hflip');
    let fired = 0;
    for (let s = 0; s < 400; s++) if ((await run(aug, img, s)) !== img) fired++;
    expect(fired).toBeGreaterThan(150);
    expect(fired).toBeLessThan(250);
  });

  it('draws one gate number, then its own numbers only when it fires', async () => {
    const img = testImage(16, 12);
    const off = await make({ name: 'affine', p: 0 });
    const rng = new SeededRng(3);
    await off.apply(img, rng);
    const ref = new SeededRng(3);
    ref.next();
    expect(rng.state()).toEqual(ref.state());
  });

  it('validates options', async () => {
    await expect(make({ name: 'hflip', p: 1.5 })).rejects.toThrow(/hflip/);
    await expect(make({ name: 'gaussian-blur', sigma: [2, 1] })).rejects.toThrow(/min <= max/);
    await expect(make({ name: 'gaussian-blur', kernel_size: [4, 3] })).rejects.toThrow(/odd/);
    await expect(make({ name: 'jpeg', quality: [40, 101] })).rejects.toThrow(/jpeg/);
    await expect(make({ name: 'jpeg', quality: [40.5, 90] })).rejects.toThrow(/jpeg/);
    await expect(make({ name: 'color-jitter', hue: 0.7 })).rejects.toThrow(/color-jitter/);
    await expect(make({ name: 'affine', bogus: 1 })).rejects.toThrow(/bogus/);
  });

  it('PAPER_AUGMENTATIONS validate and chain deterministically', async () => {
    const augs = await Promise.all(PAPER_AUGMENTATIONS.map((c) => make(c)));
    const img = testImage();
    const chain = async (seed: number) => {
      const rng = SeededRng.derive(seed, 'augment:0:0');
      let x = img;
      for (const a of augs) x = await a.apply(x, rng);
      return x;
    };
    const a = await chain(4);
    expect(same(a, await chain(4))).toBe(true);
    expect(a.width).toBe(img.width);
    expect(same(a, img)).toBe(false);
  });

  it('rejects malformed images', async () => {
    const aug = await make({ name: 'hflip', p: 1 });
    expect(() => aug.apply({ data: new Uint8Array(10), width: 2, height: 2 }, new SeededRng(0))).toThrow(/12 bytes/);
  });
});

describe('hflip', () => {
  it('mirrors exactly and twice is the identity', () => {
    const img = testImage(5, 3);
    const f = hflip(img);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 5; x++) {
        for (let c = 0; c < 3; c++) expect(f.data[(y * 5 + x) * 3 + c]).toBe(img.data[(y * 5 + 4 - x) * 3 + c]);
      }
    }
    expect(same(hflip(f), img)).toBe(true);
  });
});

describe('affine', () => {
  const bilinear: AffineSampling = { interpolation: 'bilinear', border: 'constant', fill: [0, 0, 0] };
  const ident = { angle: 0, tx: 0, ty: 0, scale: 1 };

  it('identity parameters give back the input bytes (both samplers, both borders)', async () => {
    const img = testImage();
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      for (const border of ['constant', 'reflect'] as const) {
        expect(same(affineWarp(img, ident, { interpolation, border, fill: [9, 9, 9] }), img)).toBe(true);
      }
    }
    const zero = await make({ name: 'affine', degrees: 0, translate: [0, 0], scale: [1, 1], p: 1 });
    expect(same(await run(zero, img, 1), img)).toBe(true);
  });

  it('integer translation shifts pixels and fills (constant) or mirrors (reflect)', () => {
    const img = testImage(6, 4);
    const px = (im: RgbImage, x: number, y: number) => Array.from(im.data.subarray((y * im.width + x) * 3, (y * im.width + x) * 3 + 3));
    const out = affineWarp(img, { ...ident, tx: 2, ty: -1 }, { ...bilinear, fill: [1, 2, 3] });
    expect(px(out, 2, 0)).toEqual(px(img, 0, 1));
    expect(px(out, 5, 2)).toEqual(px(img, 3, 3));
    expect(px(out, 0, 0)).toEqual([1, 2, 3]);
    expect(px(out, 4, 3)).toEqual([1, 2, 3]);
    const refl = affineWarp(img, { ...ident, tx: 2 }, { ...bilinear, border: 'reflect' });
    expect(px(refl, 0, 1)).toEqual(px(img, 2, 1)); // source x = −2 → 2 (reflect-101)
    expect(px(refl, 1, 1)).toEqual(px(img, 1, 1)); // source x = −1 → 1
  });

  it('90° rotates counter-clockwise on screen (square image, exact)', () => {
    const n = 5;
    const img = testImage(n, n);
    for (const interpolation of ['bilinear', 'nearest'] as const) {
      const out = affineWarp(img, { ...ident, angle: 90 }, { ...bilinear, interpolation });
      // CCW: the right column becomes the top row. out(x, y) = in(n − 1 − y, x).
      for (let y = 0; y < n; y++) {
        for (let x = 0; x < n; x++) {
          const o = (y * n + x) * 3;
          const i = (x * n + (n - 1 - y)) * 3;
          expect([out.data[o], out.data[o + 1], out.data[o + 2]]).toEqual([img.data[i], img.data[i + 1], img.data[i + 2]]);
        }
      }
    }
  });

  it('zoom keeps the center pixel and enlarges content', () => {
    const img = testImage(9, 9);
    const out = affineWarp(img, { ...ident, scale: 2 }, bilinear);
    const c = (4 * 9 + 4) * 3;
    expect(Array.from(out.data.subarray(c, c + 3))).toEqual(Array.from(img.data.subarray(c, c + 3)));
    // out(6, 4) samples in(5, 4)
    const o = (4 * 9 + 6) * 3;
    const i = (4 * 9 + 5) * 3;
    expect(Array.from(out.data.subarray(o, o + 3))).toEqual(Array.from(img.data.subarray(i, i + 3)));
  });
});

describe('gaussian blur', () => {
  it('uses a normalized torchvision kernel', () => {
    const k = gaussianKernel(5, 1);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(k[2]! / k[1]!).toBeCloseTo(Math.exp(0.5), 12);
    expect(k[0]).toBeCloseTo(k[4]!, 15);
  });

  it('keeps a constant image constant, smooths a checkerboard, preserves the mean', () => {
    const flat: RgbImage = { data: new Uint8Array(10 * 7 * 3).fill(77), width: 10, height: 7 };
    expect(same(gaussianBlur(flat, 1.5), flat)).toBe(true);
    const board: RgbImage = { data: new Uint8Array(16 * 16 * 3), width: 16, height: 16 };
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) board.data.fill((x + y) % 2 ? 200 : 0, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
    const out = gaussianBlur(board, 2);
    for (const v of out.data) expect(Math.abs(v - 100)).toBeLessThanOrEqual(2);
    const wide = gaussianBlur(testImage(), 1, [3, 7]);
    expect(wide.width).toBe(48);
  });

  it('reflect-101 indices', () => {
    expect([-3, -2, -1, 0, 3, 4, 5, 6, 9].map((i) => reflectIndex(i, 4))).toEqual([3, 2, 1, 0, 3, 2, 1, 0, 3]);
    expect(reflectIndex(-5, 1)).toBe(0);
  });
});

describe('color jitter', () => {
  it('zero ranges are off: exact identity', async () => {
    const img = testImage();
    const aug = await make({ name: 'color-jitter', brightness: 0, contrast: 0, saturation: 0, hue: 0, p: 1 });
    for (const seed of [1, 2]) expect(same(await run(aug, img, seed), img)).toBe(true);
    expect(jitterRange([1, 1], 'factor')).toBeNull();
    expect(jitterRange(0.1, 'factor')).toEqual([0.9, 1.1]);
    expect(jitterRange(1.5, 'factor')).toEqual([0, 2.5]);
    expect(jitterRange(0.2, 'hue')).toEqual([-0.2, 0.2]);
  });

  it('follows torchvision formulas', () => {
    const img = testImage(6, 5);
    const none = { order: [0, 1, 2, 3], brightness: null, contrast: null, saturation: null, hue: null };
    const bright = colorJitter(img, { ...none, brightness: 0.5 });
    for (let i = 0; i < img.data.length; i++) expect(bright.data[i]).toBe(Math.round(img.data[i]! * 0.5));
    const gray = colorJitter(img, { ...none, saturation: 0 });
    for (let i = 0; i < gray.data.length; i += 3) {
      expect(gray.data[i]).toBe(gray.data[i + 1]);
      expect(gray.data[i + 1]).toBe(gray.data[i + 2]);
    }
    const flat = colorJitter(img, { ...none, contrast: 0 });
    expect(new Set(flat.data).size).toBe(1);
    // A full hue turn is the identity up to rounding; a third of a turn rotates R → G → B.
    expect(meanAbsDiff(colorJitter(img, { ...none, hue: 0.5 }), colorJitter(img, { ...none, hue: -0.5 }))).toBeLessThan(0.01);
    const red: RgbImage = { data: Uint8Array.from([200, 10, 10]), width: 1, height: 1 };
    expect(Array.from(colorJitter(red, { ...none, hue: 1 / 3 }).data)).toEqual([10, 200, 10]);
  });
});

describe('jpeg', () => {
  it('re-compresses: decodes to the same size, differs, stays close at high quality', async () => {
    const img = testImage(64, 48);
    const low = await jpegRoundTrip(img, 40);
    const high = await jpegRoundTrip(img, 98);
    expect([low.width, low.height, low.data.length]).toEqual([64, 48, 64 * 48 * 3]);
    expect(same(low, img)).toBe(false);
    expect(meanAbsDiff(high, img)).toBeLessThan(meanAbsDiff(low, img));
    expect(meanAbsDiff(low, img)).toBeLessThan(30);
    // Independently decodable: re-encode the output losslessly and read it back with sharp.
    const png = await sharp(low.data, { raw: { width: 64, height: 48, channels: 3 } }).png().toBuffer();
    expect((await sharp(png).metadata()).width).toBe(64);
  });

  it('the plugin uses an integer quality in range (fixed range → fixed bytes)', async () => {
    const img = testImage(32, 32);
    const aug = await make({ name: 'jpeg', quality: [70, 70], p: 1 });
    const ref = await jpegRoundTrip(img, 70);
    expect(same(await run(aug, img, 1), ref)).toBe(true);
    expect(same(await run(aug, img, 2), ref)).toBe(true);
  });
});

describe('downscale', () => {
  it('same-size resize is the identity; constant stays constant', () => {
    const img = testImage();
    for (const m of ['area', 'bilinear', 'nearest'] as const) expect(same(resizeRgb(img, img.width, img.height, m), img)).toBe(true);
    const flat: RgbImage = { data: new Uint8Array(30 * 20 * 3).fill(123), width: 30, height: 20 };
    expect(same(downscaleUp(flat, 0.37, 'area', 'bilinear'), flat)).toBe(true);
  });

  it('area 2× shrink averages 2×2 blocks', () => {
    const img = testImage(4, 4);
    const out = resizeRgb(img, 2, 2, 'area');
    const at = (x: number, y: number, c: number) => img.data[(y * 4 + x) * 3 + c]!;
    for (let c = 0; c < 3; c++) expect(out.data[c]).toBe(Math.round((at(0, 0, c) + at(1, 0, c) + at(0, 1, c) + at(1, 1, c)) / 4));
  });
});

describe('speed', () => {
  it('handles 256×256 quickly (loose bound: shared CI machines)', async () => {
    const img = testImage(256, 256);
    const times: Record<string, number> = {};
    for (const name of NAMES) {
      const aug = await make({ name, ...STRONG[name], p: 1 });
      await run(aug, img, 0); // warm up
      const t0 = performance.now();
      for (let s = 1; s <= 5; s++) await run(aug, img, s);
      times[name] = (performance.now() - t0) / 5;
    }
    console.log('ms per 256×256 image:', Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Number(v.toFixed(2))])));
    for (const [name, ms] of Object.entries(times)) expect(ms, name).toBeLessThan(250);
  });
});
