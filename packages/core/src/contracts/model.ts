import type * as tf from '../tf.js';

/** Anything holding named trainable state (backbones, heads, adapters). */
export interface ParameterTree {
  /** Every parameter under its state-dict name (Hugging Face names for backbones). */
  namedParameters(): [string, tf.Variable][];
  dispose(): void;
}

/**
 * How raw images become the backbone's input, as plain data (so loader workers can apply it):
 * the fields of a Hugging Face image-processor config.
 */
export interface ImagePreprocessing {
  do_resize: boolean;
  /** `{shortest_edge}` keeps the aspect ratio; `{height, width}` resizes to exactly that. */
  size: { shortest_edge: number } | { height: number; width: number };
  resample: number;
  do_center_crop: boolean;
  crop_size: { height: number; width: number };
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  image_mean: number[];
  image_std: number[];
  do_convert_rgb?: boolean;
}

export interface BackboneOutput {
  /** The feature the head sees [N, D] (the paper: pooler_output, CLS after post-layernorm). */
  features: tf.Tensor2D;
  /** Projected embedding when the backbone has one (CLIP image_embeds, unnormalized). */
  embeds?: tf.Tensor2D;
}

/** The `backbone` plugin kind's contract. */
export interface Backbone extends ParameterTree {
  readonly featureDim: number;
  readonly preprocessing: ImagePreprocessing;
  /** Decodes image files and applies `preprocessing`: [N, C, H, W] in input order. */
  loadImages(inputs: (string | Uint8Array)[]): Promise<tf.Tensor4D>;
  /** Backbone options that rebuild the same architecture and preprocessing without weight files (exports). */
  standaloneOptions?(): Record<string, unknown>;
  /** pixels [N, C, H, W], already preprocessed. */
  forward(pixels: tf.Tensor4D, opts?: { training?: boolean }): BackboneOutput;
}
