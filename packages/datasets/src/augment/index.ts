/**
 * Image-stage `augmentation` plugins (decoded uint8 RGB HWC, before the model's resize/crop, in the
 * loader's workers). Each is deterministic given the per-sample Rng: one draw for its `p` gate,
 * then its own draws only when it fires; a skipped augmentation returns its input unchanged.
 */
import type { PluginInstanceConfig } from '@dfdet/core';
import { affineAugmentation } from './affine.js';
import { gaussianBlurAugmentation } from './blur.js';
import { colorJitterAugmentation } from './color.js';
import { downscaleAugmentation } from './downscale.js';
import { hflipAugmentation } from './hflip.js';
import { jpegAugmentation } from './jpeg.js';

export * from './common.js';
export * from './hflip.js';
export * from './affine.js';
export * from './blur.js';
export * from './color.js';
export * from './jpeg.js';
export * from './downscale.js';

/** Every image augmentation plugin this package provides. */
export const augmentationPlugins = [
  hflipAugmentation,
  affineAugmentation,
  gaussianBlurAugmentation,
  colorJitterAugmentation,
  jpegAugmentation,
  downscaleAugmentation,
];

/**
 * The paper's training pipeline (yermandy/deepfake-detection `init_augmentations`, torchvision v2):
 * RandomHorizontalFlip(0.5), RandomAffine(10, translate (0.1, 0.1), scale (0.9, 1.1)),
 * GaussianBlur(kernel_size=(3, 7), sigma=(0.1, 2.0)), ColorJitter(0.1, 0.1), JPEG([40, 100]),
 * all but the flip always applied. torchvision's affine defaults (nearest, fill 0) are spelled out.
 * As YAML: `data.augmentations: [hflip, {name: affine, interpolation: nearest}, …]`.
 */
export const PAPER_AUGMENTATIONS: PluginInstanceConfig[] = [
  { name: 'hflip', p: 0.5 },
  { name: 'affine', degrees: 10, translate: [0.1, 0.1], scale: [0.9, 1.1], interpolation: 'nearest', border: 'constant', fill: 0, p: 1 },
  { name: 'gaussian-blur', sigma: [0.1, 2], kernel_size: [3, 7], p: 1 },
  { name: 'color-jitter', brightness: 0.1, contrast: 0.1, saturation: 0, hue: 0, p: 1 },
  { name: 'jpeg', quality: [40, 100], p: 1 },
];
