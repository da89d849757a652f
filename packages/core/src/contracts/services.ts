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

export interface ServiceTypes {
  tensorFiles: TensorFiles;
}

export const ServiceTokens: { [K in keyof ServiceTypes]: symbol } = {
  tensorFiles: Symbol.for('dfdet.service.tensor-files'),
};
