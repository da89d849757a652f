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
