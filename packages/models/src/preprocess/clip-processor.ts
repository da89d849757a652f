/**
 * Hugging Face `CLIPImageProcessor` (the PIL-backed processor: transformers 4.x `CLIPImageProcessor`,
 * transformers ≥ 5 `CLIPImageProcessorPil`) re-implemented for Node:
 *
 *   decode (sharp, no EXIF transpose, no ICC transform) → PIL `convert("RGB")` semantics
 *   → resize (shortest edge, `int()` truncation of the long edge; Pillow resampling on uint8, bit-exact)
 *   → center crop (HF integer arithmetic, zero padding when the image is smaller than the crop)
 *   → rescale (`float32(u8 * factor)`, product in float64) → normalize (`(x - mean) / std` in float32)
 *   → CHW float32, batched NCHW.
 *
 * Not reproduced: HF's torchvision backend (`CLIPImageProcessorFast`, the transformers ≥ 5 default when
 * torchvision is installed) resizes with torch kernels and gives different pixels.
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { PilResample, pilResize, type U8Image } from './pil-resample.js';
import type { ImagePreprocessing } from '@dfdet/core';

export const OPENAI_CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** HF `size`: `{shortest_edge}` keeps the aspect ratio; `{height, width}` resizes to exactly that. */
export type ClipResizeSize = { shortest_edge: number } | { height: number; width: number };

/**
 * The fields of a HF `preprocessor_config.json` that CLIPImageProcessor uses, with HF's key names, in normalized
 * form (sizes as dicts, mean/std as 3-lists): core's `ImagePreprocessing`, plain data that crosses worker
 * boundaries. `resample` is a Pillow filter code (3 = BICUBIC, CLIP's; 1, 2, 4, 5 also work).
 */
export type ClipProcessorConfig = ImagePreprocessing;

export class ProcessorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessorConfigError';
  }
}

/** HF's CLIP defaults (openai/clip-vit-*) for a model input of `imageSize` (224 by default). */
export function clipProcessorDefaults(imageSize = 224): ClipProcessorConfig {
  if (!isPosInt(imageSize)) throw new ProcessorConfigError(`clipProcessorDefaults: image size must be a positive integer, got ${imageSize}`);
  return {
    do_resize: true,
    size: { shortest_edge: imageSize },
    resample: PilResample.BICUBIC,
    do_center_crop: true,
    crop_size: { height: imageSize, width: imageSize },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [...OPENAI_CLIP_MEAN],
    image_std: [...OPENAI_CLIP_STD],
    do_convert_rgb: true,
  };
}

/** HF's defaults = openai/clip-vit-*: shortest edge 224, bicubic, center crop 224, 1/255, OpenAI mean/std. */
export const DEFAULT_CLIP_PROCESSOR_CONFIG: Readonly<ClipProcessorConfig> = deepFreeze(clipProcessorDefaults(224));

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}

const RESAMPLE_SUPPORTED = new Set<number>([
  PilResample.LANCZOS,
  PilResample.BILINEAR,
  PilResample.BICUBIC,
  PilResample.BOX,
  PilResample.HAMMING,
]);

function isPosInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Turn the parsed JSON of a HF `preprocessor_config.json` into a {@link ClipProcessorConfig}. Missing keys take
 * HF's CLIP defaults; unrelated keys (`image_processor_type`, `processor_class`, ...) are ignored. Legacy forms are
 * accepted as HF's `get_size_dict` does: `size: 224` → shortest edge, `crop_size: 224` → square,
 * `[h, w]` lists → height/width. `source` names the file in error messages.
 */
export function parseProcessorConfig(json: unknown, source = 'preprocessor config'): ClipProcessorConfig {
  const fail = (key: string, msg: string): never => {
    throw new ProcessorConfigError(`${source}: "${key}" ${msg}`);
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ProcessorConfigError(`${source}: expected a JSON object, got ${describe(json)}`);
  }
  const o = json as Record<string, unknown>;
  const d = DEFAULT_CLIP_PROCESSOR_CONFIG;

  const bool = (key: string, def: boolean): boolean => {
    const v = o[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') fail(key, `must be true or false, got ${describe(v)}`);
    return v as boolean;
  };
  const hw = (key: string, v: unknown): { height: number; width: number } => {
    if (Array.isArray(v)) {
      if (v.length !== 2 || !isPosInt(v[0]) || !isPosInt(v[1])) fail(key, `as a list must be [height, width] of positive integers, got ${describe(v)}`);
      return { height: v[0] as number, width: v[1] as number };
    }
    const r = v as Record<string, unknown>;
    if (!isPosInt(r['height']) || !isPosInt(r['width'])) {
      fail(key, `must have positive integer "height" and "width", got ${describe(v)}`);
    }
    return { height: r['height'] as number, width: r['width'] as number };
  };
  const triple = (key: string, def: readonly [number, number, number], positive: boolean): [number, number, number] => {
    const v = o[key];
    if (v === undefined || v === null) return [...def] as [number, number, number];
    const arr = typeof v === 'number' ? [v, v, v] : v;
    if (!Array.isArray(arr) || arr.length !== 3 || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      fail(key, `must be a number or a list of 3 finite numbers (RGB), got ${describe(v)}`);
    }
    const t = arr as [number, number, number];
    if (positive && t.some((x) => x <= 0)) fail(key, `must be > 0, got ${describe(v)}`);
    return [t[0], t[1], t[2]];
  };

  // size (HF get_size_dict with default_to_square=False)
  let size: ClipResizeSize = { ...d.size };
  const sv = o['size'];
  if (sv !== undefined && sv !== null) {
    if (typeof sv === 'number') {
      if (!isPosInt(sv)) fail('size', `must be a positive integer, got ${describe(sv)}`);
      size = { shortest_edge: sv };
    } else if (Array.isArray(sv)) {
      size = hw('size', sv);
    } else if (typeof sv === 'object') {
      const r = sv as Record<string, unknown>;
      if ('shortest_edge' in r) {
        if (!isPosInt(r['shortest_edge'])) fail('size', `"shortest_edge" must be a positive integer, got ${describe(r['shortest_edge'])}`);
        if (r['longest_edge'] !== undefined && r['longest_edge'] !== null) {
          fail('size', `"longest_edge" is not supported by CLIPImageProcessor (got ${describe(sv)})`);
        }
        size = { shortest_edge: r['shortest_edge'] as number };
      } else if ('height' in r || 'width' in r) {
        size = hw('size', sv);
      } else {
        fail('size', `must contain "shortest_edge" or "height" and "width", got ${describe(sv)}`);
      }
    } else {
      fail('size', `must be an integer or an object, got ${describe(sv)}`);
    }
  }

  // crop_size (HF get_size_dict with default_to_square=True)
  let cropSize = { ...d.crop_size };
  const cv = o['crop_size'];
  if (cv !== undefined && cv !== null) {
    if (typeof cv === 'number') {
      if (!isPosInt(cv)) fail('crop_size', `must be a positive integer, got ${describe(cv)}`);
      cropSize = { height: cv, width: cv };
    } else if (Array.isArray(cv) || typeof cv === 'object') {
      cropSize = hw('crop_size', cv);
    } else {
      fail('crop_size', `must be an integer or {height, width}, got ${describe(cv)}`);
    }
  }

  const doResize = bool('do_resize', d.do_resize);
  let resample = d.resample;
  const rv = o['resample'];
  if (rv !== undefined && rv !== null) {
    if (typeof rv !== 'number' || !Number.isInteger(rv)) fail('resample', `must be a Pillow filter code (integer), got ${describe(rv)}`);
    resample = rv as number;
  }
  if (doResize && !RESAMPLE_SUPPORTED.has(resample)) {
    fail('resample', `= ${resample} is not supported (1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING; 0 NEAREST is not implemented)`);
  }

  let rescaleFactor = d.rescale_factor;
  const fv = o['rescale_factor'];
  if (fv !== undefined && fv !== null) {
    if (typeof fv !== 'number' || !Number.isFinite(fv)) fail('rescale_factor', `must be a finite number, got ${describe(fv)}`);
    rescaleFactor = fv as number;
  }

  return {
    do_resize: doResize,
    size,
    resample,
    do_center_crop: bool('do_center_crop', d.do_center_crop),
    crop_size: cropSize,
    do_rescale: bool('do_rescale', d.do_rescale),
    rescale_factor: rescaleFactor,
    do_normalize: bool('do_normalize', d.do_normalize),
    image_mean: triple('image_mean', OPENAI_CLIP_MEAN, false),
    image_std: triple('image_std', OPENAI_CLIP_STD, true),
    do_convert_rgb: bool('do_convert_rgb', true),
  };
}

/** Read and validate a HF `preprocessor_config.json`. Errors name the file (and the offending key). */
export function loadProcessorConfig(path: string): ClipProcessorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ProcessorConfigError(`${path}: cannot read preprocessor config (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProcessorConfigError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  return parseProcessorConfig(json, path);
}

// ------------------------------------------------------------------------------------------------------------------
// decoding
// ------------------------------------------------------------------------------------------------------------------

export interface DecodeOptions {
  /**
   * Apply the EXIF Orientation tag. Default false: HF's processor does not transpose PIL images it is given
   * (`Image.open(p)` keeps the stored pixel order). Set true to mirror HF's `load_image()` / path-string inputs,
   * which call `PIL.ImageOps.exif_transpose` first.
   */
  applyExifOrientation?: boolean;
}

/** `MULDIV255` from Pillow: round(a*b/255) in integers. */
function muldiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * Decode any image sharp reads (PNG, JPEG, WebP, GIF, TIFF, AVIF, ...) to 8-bit RGB HWC with the pixels
 * `np.array(Image.open(x).convert("RGB"))` gives:
 * - alpha is dropped, not composited (PIL `convert("RGB")` on RGBA/LA/PA keeps the colour under alpha 0);
 * - grey is replicated to 3 channels; palettes are expanded;
 * - no ICC transform (PIL ignores embedded profiles), no EXIF transpose unless asked;
 * - CMYK uses Pillow's naive `cmyk2rgb` (no ICC), 16-bit RGB keeps the high byte, and 16-bit single-channel grey is
 *   clipped to [0, 255] as PIL's mode "I" → "RGB" conversion does.
 */
export async function decodeImageRgb(input: string | Buffer, options: DecodeOptions = {}): Promise<U8Image> {
  const open = () => sharp(input, { ignoreIcc: true, autoOrient: options.applyExifOrientation === true, failOn: 'error' });
  const where = typeof input === 'string' ? input : `<buffer ${input.length} bytes>`;
  try {
    const meta = await open().metadata();
    if (meta.space === 'cmyk') {
      const { data, info } = await open().pipelineColourspace('cmyk').toColourspace('cmyk').raw().toBuffer({ resolveWithObject: true });
      const n = info.width * info.height;
      const out = new Uint8Array(n * 3);
      const c = info.channels;
      for (let i = 0; i < n; i++) {
        const nk = 255 - data[i * c + 3]!;
        for (let k = 0; k < 3; k++) {
          const v = nk - muldiv255(data[i * c + k]!, nk);
          out[i * 3 + k] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
      }
      return { data: out, width: info.width, height: info.height, channels: 3 };
    }
    if (meta.space === 'grey16' && meta.channels === 1) {
      const { data, info } = await open().toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
      const v16 = new Uint16Array(data.buffer, data.byteOffset, info.width * info.height * info.channels);
      const n = info.width * info.height;
      const out = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) {
        const v = v16[i * info.channels]!;
        out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v > 255 ? 255 : v;
      }
      return { data: out, width: info.width, height: info.height, channels: 3 };
    }
    const { data, info } = await open().raw().toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    const c = info.channels;
    if (c === 3) return { data: new Uint8Array(data.buffer, data.byteOffset, n * 3), width: info.width, height: info.height, channels: 3 };
    const out = new Uint8Array(n * 3);
    if (c === 1 || c === 2) {
      for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[i * c]!;
    } else if (c === 4) {
      for (let i = 0; i < n; i++) {
        out[i * 3] = data[i * 4]!;
        out[i * 3 + 1] = data[i * 4 + 1]!;
        out[i * 3 + 2] = data[i * 4 + 2]!;
      }
    } else {
      throw new Error(`unexpected channel count ${c}`);
    }
    return { data: out, width: info.width, height: info.height, channels: 3 };
  } catch (e) {
    throw new Error(`decodeImageRgb: cannot decode ${where}: ${(e as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------------------------------
// geometry + arithmetic (pure)
// ------------------------------------------------------------------------------------------------------------------

/** HF `get_resize_output_image_size` → `[height, width]`. Shortest edge: long = int(s * long / short). */
export function resizeOutputSize(height: number, width: number, size: ClipResizeSize): [number, number] {
  if ('shortest_edge' in size) {
    const s = size.shortest_edge;
    const [short, long] = width <= height ? [width, height] : [height, width];
    const newLong = Math.trunc((s * long) / short);
    return width <= height ? [newLong, s] : [s, newLong];
  }
  return [size.height, size.width];
}

/** HF `center_crop` on an HWC uint8 image: top = floor((h - ch)/2), left likewise; zero padding if too small. */
export function centerCropU8(img: U8Image, cropHeight: number, cropWidth: number): U8Image {
  const c = img.channels ?? 3;
  const { width: w, height: h } = img;
  // Python `//` floors; padding puts ceil((new - orig)/2) zeros before the image, which makes the crop window
  // start at offset floor((orig - crop)/2) relative to the original (negative = inside the padding).
  const top = Math.floor((h - cropHeight) / 2);
  const left = Math.floor((w - cropWidth) / 2);
  const out = new Uint8Array(cropHeight * cropWidth * c); // zeros = HF's np.zeros_like padding
  for (let y = 0; y < cropHeight; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= h) continue;
    const x0 = Math.max(0, -left);
    const x1 = Math.min(cropWidth, w - left);
    if (x1 <= x0) continue;
    out.set(img.data.subarray((sy * w + x0 + left) * c, (sy * w + x1 + left) * c), (y * cropWidth + x0) * c);
  }
  return { data: out, width: cropWidth, height: cropHeight, channels: c };
}

/**
 * Resize + crop + rescale + normalize one decoded RGB image (HWC uint8); writes CHW float32 into `out` at `offset`
 * (or a new array). Returns the output `[3, H, W]`. `config` is validated like a HF config (plain data is fine).
 */
export function clipTransformU8(
  img: U8Image,
  config: ClipProcessorConfig,
  out?: Float32Array,
  offset = 0,
): { data: Float32Array; shape: [3, number, number] } {
  return transformU8(img, parseProcessorConfig(config, 'preprocessing config'), out, offset);
}

function transformU8(
  img: U8Image,
  config: ClipProcessorConfig,
  out?: Float32Array,
  offset = 0,
): { data: Float32Array; shape: [3, number, number] } {
  if ((img.channels ?? 3) !== 3) throw new Error(`clipTransformU8: expected an RGB image, got ${img.channels} channels`);
  let im = img;
  if (config.do_resize) {
    const [h, w] = resizeOutputSize(im.height, im.width, config.size);
    im = pilResize(im, w, h, config.resample);
  }
  if (config.do_center_crop) im = centerCropU8(im, config.crop_size.height, config.crop_size.width);
  const { width: W, height: H, data: px } = im;
  const plane = H * W;
  const dst = out ?? new Float32Array(3 * plane);
  if (dst.length < offset + 3 * plane) throw new Error(`clipTransformU8: output buffer too small`);
  const f32 = Math.fround;
  const mean = config.image_mean.map(f32);
  const std = config.image_std.map(f32);
  const factor = config.rescale_factor;
  for (let c = 0; c < 3; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) {
      let v: number = px[i * 3 + c]!;
      // HF rescale: image.astype(float64) * scale, then .astype(float32)
      if (config.do_rescale) v = f32(v * factor);
      // HF normalize: float32 (x - mean) / std, each op rounded to float32 (double-then-round is exact here)
      if (config.do_normalize) v = f32(f32(v - m) / s);
      dst[base + i] = v;
    }
  }
  return { data: dst, shape: [3, H, W] };
}

export type PreprocessOptions = DecodeOptions;

/**
 * Decode and preprocess a batch exactly like HF `CLIPImageProcessor(...)(images=[Image.open(p) ...])
 * ["pixel_values"]`: returns float32 NCHW. All images must end up the same size (always true with center crop).
 * `do_convert_rgb: false` is treated as true (the model needs 3 channels; HF would fail or pass 1/4 channels).
 */
export async function preprocessImages(
  inputs: readonly (string | Buffer)[],
  config: ClipProcessorConfig = DEFAULT_CLIP_PROCESSOR_CONFIG,
  options: PreprocessOptions = {},
): Promise<{ data: Float32Array; shape: [number, 3, number, number] }> {
  if (inputs.length === 0) throw new Error('preprocessImages: no images given');
  const cfg = parseProcessorConfig(config, 'preprocessing config');
  // transform each image as soon as it is decoded, so only the (small) float outputs are held at once
  const results = await Promise.all(inputs.map(async (x) => transformU8(await decodeImageRgb(x, options), cfg)));
  const [, H, W] = results[0]!.shape;
  results.forEach((r, i) => {
    if (r.shape[1] !== H || r.shape[2] !== W) {
      const name = typeof inputs[i] === 'string' ? inputs[i] : `#${i}`;
      throw new Error(
        `preprocessImages: image ${name} came out ${r.shape[1]}x${r.shape[2]} but image 0 is ${H}x${W}; enable do_center_crop or use a fixed {height, width} size to batch`,
      );
    }
  });
  const plane = 3 * H * W;
  const data = new Float32Array(results.length * plane);
  results.forEach((r, i) => data.set(r.data, i * plane));
  return { data, shape: [results.length, 3, H, W] };
}
