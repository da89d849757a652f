import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLIP_PROCESSOR_CONFIG,
  ProcessorConfigError,
  clipProcessorDefaults,
  centerCropU8,
  clipTransformU8,
  decodeImageRgb,
  loadProcessorConfig,
  parseProcessorConfig,
  preprocessImages,
  resizeOutputSize,
} from '../../src/preprocess/clip-processor.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { FIXTURES, diff, f32, readJson, u8, type DecodeRefs, type PilRefs } from './fixtures.js';

const refs = readJson<PilRefs>('pil_refs.json');
const decodeRefs = readJson<DecodeRefs>('decode_refs.json');
// the repo's shared reference fixture (test/fixtures/clip-tiny)
const CLIP_TINY = join(__dirname, '../../../../test/fixtures/clip-tiny');

describe('clip-tiny fixture: PNG -> pixel_values', () => {
  const config = loadProcessorConfig(join(CLIP_TINY, 'preprocessor_config.json'));
  const pngs = [0, 1, 2].map((i) => join(CLIP_TINY, `img${i}.png`));

  it('loads the HF preprocessor_config.json', () => {
    expect(config).toEqual({
      ...DEFAULT_CLIP_PROCESSOR_CONFIG,
      size: { shortest_edge: 28 },
      crop_size: { height: 28, width: 28 },
      rescale_factor: 0.00392156862745098,
    });
  });

  it('reproduces clip_ref inputs.pixel_values (float64-rounded reference) within 3e-7', async () => {
    // pixel_values.safetensors is byte-identical to clip_ref.json inputs.pixel_values (sha256 recorded in clip_ref.json)
    const sha = createHash('sha256').update(readFileSync(join(CLIP_TINY, 'pixel_values.safetensors'))).digest('hex');
    expect(sha).toBe('ed4937db564b1984f48073a9066dedce642e6fd7e2e5d9b53e61a56c3f3742a6');
    const ref = readSafetensors(join(CLIP_TINY, 'pixel_values.safetensors')).get('pixel_values')!;
    expect(ref.shape).toEqual([3, 3, 28, 28]);
    const out = await preprocessImages(pngs, config);
    expect(out.shape).toEqual([3, 3, 28, 28]);
    const d = diff(out.data, ref.data);
    expect(d.max).toBeLessThanOrEqual(3e-7);
  });

  it('equals HF float32 CLIPImageProcessor output exactly (Buffer inputs too)', async () => {
    const out = await preprocessImages(pngs.map((p) => readFileSync(p)), config);
    for (let i = 0; i < 3; i++) {
      const c = refs.pipeline_cases.find((x) => x.name === `clip_tiny_img${i}`)!;
      const plane = 3 * 28 * 28;
      expect(diff(out.data.subarray(i * plane, (i + 1) * plane), f32(c.expected_f32))).toEqual({ max: 0, count: 0 });
    }
  });
});

describe('CLIP pipeline (resize shortest edge, center crop with padding, rescale, normalize) == HF exactly', () => {
  for (const c of refs.pipeline_cases) {
    if (c.name.startsWith('clip_tiny')) continue;
    it(`${c.name} -> [${c.shape.join(',')}]`, async () => {
      const config = parseProcessorConfig(c.config, c.name);
      let out: { data: Float32Array; shape: number[] };
      if (c.input) {
        const src = refs.inputs[c.input]!;
        out = clipTransformU8({ data: u8(src.data), width: src.width, height: src.height }, config);
      } else {
        const r = await preprocessImages([join(FIXTURES, 'decode', c.file!)], config);
        out = { data: r.data, shape: r.shape.slice(1) };
      }
      expect(out.shape).toEqual(c.shape);
      expect(diff(out.data, f32(c.expected_f32))).toEqual({ max: 0, count: 0 });
    });
  }

  it('resizeOutputSize truncates like int() and keeps orientation', () => {
    expect(resizeOutputSize(23, 37, { shortest_edge: 16 })).toEqual([16, 25]); // 16*37/23 = 25.74
    expect(resizeOutputSize(41, 19, { shortest_edge: 16 })).toEqual([34, 16]);
    expect(resizeOutputSize(480, 640, { shortest_edge: 224 })).toEqual([224, 298]); // 298.67
    expect(resizeOutputSize(100, 100, { shortest_edge: 7 })).toEqual([7, 7]);
    expect(resizeOutputSize(5, 9, { height: 3, width: 4 })).toEqual([3, 4]);
  });

  it('centerCropU8 uses floor offsets and zero padding', () => {
    // 1 channel 3x4 (h=3, w=4) image, values 1..12
    const img = { data: Uint8Array.from({ length: 12 }, (_, i) => i + 1), width: 4, height: 3, channels: 1 };
    expect([...centerCropU8(img, 2, 2).data]).toEqual([2, 3, 6, 7]); // top=(3-2)//2=0, left=1
    expect([...centerCropU8(img, 5, 2).data]).toEqual([0, 0, 2, 3, 6, 7, 10, 11, 0, 0]); // top=-1 -> 1 row of zeros
    expect([...centerCropU8(img, 1, 7).data]).toEqual([0, 0, 5, 6, 7, 8, 0]); // top=1; left=floor(-3/2)=-2 (HF: ceil(3/2)=2 zeros first)
  });

  it('batches N images into NCHW and rejects mismatched sizes without center crop', async () => {
    const cfg = parseProcessorConfig({ size: { shortest_edge: 10 }, crop_size: 8 });
    const files = ['rgb.png', 'photo.jpg', 'photo.webp'].map((f) => join(FIXTURES, 'decode', f));
    const out = await preprocessImages(files, cfg);
    expect(out.shape).toEqual([3, 3, 8, 8]);
    const single = await preprocessImages([files[1]!], cfg);
    expect(diff(out.data.subarray(192, 384), single.data)).toEqual({ max: 0, count: 0 });
    const noCrop = parseProcessorConfig({ size: { shortest_edge: 10 }, do_center_crop: false });
    await expect(preprocessImages([files[0]!, join(FIXTURES, 'decode', 'rgba.png')], noCrop)).rejects.toThrow(/came out/);
    await expect(preprocessImages([], cfg)).rejects.toThrow(/no images/);
    const bad = { ...cfg, image_mean: [0.5, 0.5] };
    await expect(preprocessImages([files[0]!], bad)).rejects.toThrow(/"image_mean" must be a number or a list of 3/);
  });
});

describe('decodeImageRgb == np.array(Image.open(f).convert("RGB"))', () => {
  for (const c of decodeRefs.cases) {
    it(`${c.file} (PIL mode ${c.pil_mode})`, async () => {
      const path = join(FIXTURES, 'decode', c.file);
      expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(c.sha256);
      const img = await decodeImageRgb(path);
      expect([img.width, img.height, img.channels]).toEqual([c.width, c.height, 3]);
      expect(diff(img.data, u8(c.expected))).toEqual({ max: 0, count: 0 });
    });
  }

  it('covers JPEG, WebP and RGBA PNG inputs', () => {
    const files = decodeRefs.cases.map((c) => c.file);
    for (const f of ['photo.jpg', 'photo.webp', 'rgba.png', 'rgba_lossless.webp']) expect(files).toContain(f);
    expect(decodeRefs.cases.find((c) => c.file === 'rgba.png')!.pil_mode).toBe('RGBA');
  });

  it('RGBA: alpha is dropped, colour under alpha=0 kept (PIL convert("RGB"), no compositing)', async () => {
    const img = await decodeImageRgb(join(FIXTURES, 'decode', 'rgba.png'));
    const ref = u8(decodeRefs.cases.find((c) => c.file === 'rgba.png')!.expected);
    expect(img.data[0]).toBe(ref[0]);
    expect(img.data.slice(0, 9).some((v) => v !== 0 && v !== 255)).toBe(true);
  });

  it('EXIF orientation is ignored by default (like HF with a PIL image) and applied on request', async () => {
    const path = join(FIXTURES, 'decode', 'photo_exif6.jpg');
    const plain = await decodeImageRgb(path);
    expect([plain.width, plain.height]).toEqual([40, 30]);
    const oriented = await decodeImageRgb(readFileSync(path), { applyExifOrientation: true });
    expect([oriented.width, oriented.height]).toEqual([30, 40]);
    // orientation 6 = rotate 90 degrees clockwise: oriented(x, y) = plain(y, H - 1 - x)
    for (const [x, y] of [[0, 0], [29, 0], [5, 39], [17, 23]] as const) {
      const o = (y * 30 + x) * 3;
      const p = ((30 - 1 - x) * 40 + y) * 3;
      expect([...oriented.data.subarray(o, o + 3)]).toEqual([...plain.data.subarray(p, p + 3)]);
    }
  });

  it('fails clearly on undecodable input', async () => {
    await expect(decodeImageRgb(Buffer.from('not an image'))).rejects.toThrow(/cannot decode <buffer 12 bytes>/);
    await expect(decodeImageRgb(join(FIXTURES, 'missing.png'))).rejects.toThrow(/missing\.png/);
  });
});

describe('processor config parsing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfdet-pp-'));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('defaults = openai CLIP; legacy int sizes; scalar mean/std broadcast; extra keys ignored', () => {
    expect(parseProcessorConfig({})).toEqual(DEFAULT_CLIP_PROCESSOR_CONFIG);
    expect(DEFAULT_CLIP_PROCESSOR_CONFIG).toEqual({
      do_resize: true,
      size: { shortest_edge: 224 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
      do_convert_rgb: true,
    });
    expect(Object.isFrozen(DEFAULT_CLIP_PROCESSOR_CONFIG.size)).toBe(true);
    expect(clipProcessorDefaults(28)).toMatchObject({ size: { shortest_edge: 28 }, crop_size: { height: 28, width: 28 } });
    expect(() => clipProcessorDefaults(0)).toThrow(ProcessorConfigError);
    // a normalized config is itself a valid HF config (round trip)
    const rt = parseProcessorConfig(JSON.parse(JSON.stringify(clipProcessorDefaults(336))));
    expect(rt).toEqual(clipProcessorDefaults(336));
    const legacy = parseProcessorConfig({ size: 336, crop_size: 336, feature_extractor_type: 'CLIPFeatureExtractor', image_mean: 0.5, image_std: [0.5, 0.5, 0.5] });
    expect(legacy.size).toEqual({ shortest_edge: 336 });
    expect(legacy.crop_size).toEqual({ height: 336, width: 336 });
    expect(legacy.image_mean).toEqual([0.5, 0.5, 0.5]);
    expect(parseProcessorConfig({ size: [10, 20], crop_size: [5, 6] })).toMatchObject({ size: { height: 10, width: 20 }, crop_size: { height: 5, width: 6 } });
  });

  it('errors name the file and the key', () => {
    const cases: [string, RegExp][] = [
      ['{"size": {"shortest_edge": 0}}', /"size" "shortest_edge" must be a positive integer/],
      ['{"size": {"longest_edge": 10}}', /"size" must contain "shortest_edge" or "height" and "width"/],
      ['{"crop_size": {"height": 4}}', /"crop_size" must have positive integer "height" and "width"/],
      ['{"resample": 0}', /"resample" = 0 is not supported/],
      ['{"resample": "bicubic"}', /"resample" must be a Pillow filter code/],
      ['{"do_resize": "yes"}', /"do_resize" must be true or false/],
      ['{"image_mean": [0.5, 0.5]}', /"image_mean" must be a number or a list of 3/],
      ['{"image_std": [0.5, 0, 0.5]}', /"image_std" must be > 0/],
      ['{"rescale_factor": "1/255"}', /"rescale_factor" must be a finite number/],
      ['[1, 2]', /expected a JSON object/],
      ['{"size": ', /invalid JSON/],
    ];
    cases.forEach(([text, re], i) => {
      const p = write(`bad${i}.json`, text);
      expect(() => loadProcessorConfig(p)).toThrow(ProcessorConfigError);
      expect(() => loadProcessorConfig(p)).toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(() => loadProcessorConfig(p)).toThrow(re);
    });
    expect(() => loadProcessorConfig(join(dir, 'nope.json'))).toThrow(/nope\.json: cannot read preprocessor config/);
    // resample 0 is fine when resizing is off
    expect(parseProcessorConfig({ resample: 0, do_resize: false }).resample).toBe(0);
  });
});
