/**
 * Services core needs from plugin packages without importing them: declared here, bound by the
 * package that implements them (inversify), resolved through the registry's container.
 */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

/** Reading and writing named float32 tensors (safetensors): checkpoints, `--pixel-values`. */
export interface TensorFiles {
  read(path: string, filter?: (name: string) => boolean): Map<string, HostTensor>;
  write(path: string, tensors: Map<string, HostTensor>, metadata?: Record<string, string>): void;
  /** The `__metadata__` strings of a file, without reading tensors. */
  metadata(path: string): Record<string, string>;
  /**
   * Any weights file (safetensors, or a PyTorch .ckpt/.pt/.bin through the restricted unpickler),
   * its keys renamed by a key-mapping preset (e.g. `yermakov-2025`) when given.
   */
  readWeights(path: string, keyMapping?: string): Promise<Map<string, HostTensor>>;
}

/** Frame- and video-level metrics of p_fake scores (the paper's set). */
export interface Evaluation {
  frameAndVideoMetrics(
    frames: { video: string; label: number; pFake: number }[],
    opts?: { rule?: 'argmax' | 'ge' },
  ): { frame: Record<string, number>; video: Record<string, number> };
}

export interface CrossDatasetRequest {
  registry: import('../plugin/registry.js').PluginRegistry;
  model: import('../training/model.js').DetectorModel;
  datasets: import('../plugin/spec.js').PluginInstanceConfig[];
  split: import('./data.js').Split;
  outDir: string;
  rule: 'argmax' | 'ge';
  batchSize: number;
  workers: number;
  onBadFile: 'error' | 'skip';
  plugins: string[];
  seed: number;
  onDataset?: (name: string, frames: number, badFiles: number) => void;
}

export interface CrossDatasetResult {
  /** The cross-dataset table (markdown). */
  markdown: string;
  results: { dataset: string; frame: Record<string, number>; video: Record<string, number> }[];
}

export interface ServiceTypes {
  tensorFiles: TensorFiles;
  dataLoader: (request: import('./data.js').LoaderRequest) => import('./data.js').DataLoader;
  evaluation: Evaluation;
  /** Evaluate a model on datasets, writing predictions, tables and ROC curves to a folder. */
  evaluateDatasets: (request: CrossDatasetRequest) => Promise<CrossDatasetResult>;
}

export const ServiceTokens: { [K in keyof ServiceTypes]: symbol } = {
  tensorFiles: Symbol.for('dfdet.service.tensor-files'),
  dataLoader: Symbol.for('dfdet.service.data-loader'),
  evaluation: Symbol.for('dfdet.service.evaluation'),
  evaluateDatasets: Symbol.for('dfdet.service.evaluate-datasets'),
};
