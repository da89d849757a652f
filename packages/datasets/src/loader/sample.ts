import { SeededRng, type ImageAugmentation, type ImagePreprocessing } from '@dfdet/core';
import { clipTransformU8, decodeImageRgb } from '@dfdet/models';

export interface SampleTask {
  /** Position in the epoch's order (for the per-sample augmentation stream). */
  slot: number;
  path: string;
}

/**
 * Decodes one image, applies the training augmentations with a stream seeded by
 * (seed, epoch, slot) — so a resumed run sees the same augmented pixels — then the
 * model's preprocessing. Returns CHW float32.
 */
export async function loadSample(
  task: SampleTask,
  preprocessing: ImagePreprocessing,
  augmentations: ImageAugmentation[],
  seed: number,
  epoch: number,
): Promise<{ data: Float32Array; shape: [3, number, number] }> {
  let img = await decodeImageRgb(task.path);
  if (augmentations.length > 0) {
    const rng = SeededRng.derive(seed, `augment:${epoch}:${task.slot}`);
    let rgb = { data: img.data, width: img.width, height: img.height };
    for (const a of augmentations) rgb = await a.apply(rgb, rng);
    img = { ...rgb, channels: 3 };
  }
  return clipTransformU8(img, preprocessing);
}
