/** A host-side float32 tensor: what weight files decode to before they become tfjs variables. */
export interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Parameter name (Hugging Face naming) → tensor. */
export type NamedTensors = Map<string, TensorData>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
