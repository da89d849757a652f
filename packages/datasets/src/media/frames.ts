/**
 * Frames of a unit (a video file or a folder of frame images), N uniformly spaced, one at a time.
 */
import { basename, extname } from 'node:path';
import { decodeImageRgb, type U8Image } from '@dfdet/models';
import type { MediaUnit } from './files.js';
import { probeVideo, readVideoFrames, uniformFrameIndices, type VideoReadOptions } from './video.js';

export interface FrameItem {
  /** Output name of the frame: the zero-padded index (`007`, DeepfakeBench's `{i:03d}`) or the image's stem. */
  name: string;
  /** Index in the video, or in the folder's natural order. */
  index: number;
  /** The image file, for frame folders. */
  path?: string;
  image?: U8Image;
  /** Why the frame could not be read (frame folders: one bad image does not stop the rest). */
  error?: string;
}

export interface UnitFrames {
  /** Frames in the unit (a video's frame count, a folder's image count). */
  total: number;
  /** True when `total` was counted, not estimated from duration × fps. */
  exact: boolean;
  indices: number[];
  frames: AsyncGenerator<FrameItem>;
}

export const frameName = (index: number) => String(index).padStart(3, '0');

export interface OpenUnitOptions extends VideoReadOptions {
  /** Frame images: apply their EXIF orientation (upright, as viewers show them). Default false (pixels as stored). */
  exifOrientation?: boolean;
}

/** Opens a unit: probes a video (throws MediaError when ffmpeg cannot read it) or lists a folder's images. */
export async function openUnit(unit: MediaUnit, n: number, opts: OpenUnitOptions = {}): Promise<UnitFrames> {
  if (unit.kind === 'video') {
    const info = await probeVideo(unit.path, opts);
    const indices = uniformFrameIndices(info.frameCount, n);
    async function* frames(): AsyncGenerator<FrameItem> {
      for await (const f of readVideoFrames(unit.path, indices, opts)) yield { name: frameName(f.index), index: f.index, image: f.image };
    }
    return { total: info.frameCount, exact: info.frameCountExact, indices, frames: frames() };
  }
  const images = unit.images ?? [];
  const indices = uniformFrameIndices(images.length, n);
  async function* frames(): AsyncGenerator<FrameItem> {
    for (const i of indices) {
      const path = images[i]!;
      const name = basename(path, extname(path));
      try {
        yield { name, index: i, path, image: await decodeImageRgb(path, { applyExifOrientation: opts.exifOrientation === true }) };
      } catch (e) {
        yield { name, index: i, path, error: imageError(e) };
      }
    }
  }
  return { total: images.length, exact: true, indices, frames: frames() };
}

/** sharp's message without the `decodeImageRgb: cannot decode <path>:` prefix. */
export function imageError(e: unknown): string {
  return ((e as Error).message ?? String(e)).replace(/^decodeImageRgb: cannot decode .*?: /, '');
}
