/** One frame of one video: what a dataset adapter indexes. */
export interface FrameRecord {
  /** Absolute path of the image file. */
  path: string;
  /** Video id, unique within the dataset (frames of one video share it). */
  video: string;
  /** 0 real, 1 fake. */
  label: 0 | 1;
  /** Manipulation method or source folder (e.g. `Deepfakes`, `real`). */
  source: string;
  /** Dataset name, for cross-dataset tables. */
  dataset: string;
}

export type Split = 'train' | 'val' | 'test';

/** The `dataset` plugin kind. `index` only lists files; the loader decodes them. */
export interface DatasetAdapter {
  /** Human-readable name used in tables (`celeb-df-v2`). */
  readonly name: string;
  index(split: Split): Promise<FrameRecord[]>;
}

/** A decoded RGB image, HWC uint8 (what image augmentations transform). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * An image-stage `augmentation` plugin: applied to decoded training images before the model's
 * resize/crop, in the loader's workers, with a per-sample seeded stream. Off at evaluation.
 */
export interface ImageAugmentation {
  readonly stage: 'image';
  apply(image: RgbImage, rng: import('./training.js').Rng): RgbImage | Promise<RgbImage>;
}

export interface LoaderRequest {
  records: FrameRecord[];
  preprocessing: import('./model.js').ImagePreprocessing;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  /** Image augmentation plugin instances (YAML form), built in each worker; empty at evaluation. */
  augmentations: { name: string; [k: string]: unknown }[];
  /** Worker threads decoding and augmenting; 0 decodes on the main thread. */
  workers: number;
  onBadFile: 'error' | 'skip';
  dropLast: boolean;
  /** Draw each batch's samples class-balanced (with replacement of the minority class). */
  balanced?: boolean;
  /** Extra plugin modules the workers load (third-party augmentations). */
  plugins?: string[];
}

export interface Batch {
  /** Position of the batch within its epoch. */
  index: number;
  pixels: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  records: FrameRecord[];
}

export interface DataLoader {
  readonly batchesPerEpoch: number;
  /** Batches of one epoch in a seeded order, starting at `startBatch` (exact resume). */
  epoch(epoch: number, startBatch?: number): AsyncGenerator<Batch>;
  /** Files skipped with `on_bad_file: skip`, with why. */
  readonly badFiles: { path: string; reason: string }[];
  close(): Promise<void>;
}
