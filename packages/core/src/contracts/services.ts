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
}

/** Frame- and video-level metrics of p_fake scores (the paper's set). */
export interface Evaluation {
  frameAndVideoMetrics(
    frames: { video: string; label: number; pFake: number }[],
    opts?: { rule?: 'argmax' | 'ge' },
  ): { frame: Record<string, number>; video: Record<string, number> };
}

export interface ServiceTypes {
  tensorFiles: TensorFiles;
  dataLoader: (request: import('./data.js').LoaderRequest) => import('./data.js').DataLoader;
  evaluation: Evaluation;
}

export const ServiceTokens: { [K in keyof ServiceTypes]: symbol } = {
  tensorFiles: Symbol.for('dfdet.service.tensor-files'),
  dataLoader: Symbol.for('dfdet.service.data-loader'),
  evaluation: Symbol.for('dfdet.service.evaluation'),
};
