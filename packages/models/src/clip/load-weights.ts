import { UserError } from '@dfdet/core';
import { applyKeyMapping, keyMappingPreset, type KeyMapping } from '../io/key-mapping.js';
import { readSafetensors } from '../io/safetensors.js';
import { readTorchCheckpoint } from '../io/torch-checkpoint.js';
import type { NamedTensors } from '../io/tensor-data.js';

export type KeyMappingSpec = string | KeyMapping | undefined;

/** Reads a weights file of either format and renames its tensors with a mapping (preset name or rules). */
export async function readWeights(path: string, format: 'safetensors' | 'torch', mapping: KeyMappingSpec): Promise<NamedTensors> {
  let tensors: NamedTensors;
  if (format === 'safetensors') tensors = readSafetensors(path);
  else tensors = (await readTorchCheckpoint(path)).tensors;
  if (mapping === undefined) return tensors;
  const rules = typeof mapping === 'string' ? keyMappingPreset(mapping) : mapping;
  try {
    return applyKeyMapping(tensors, rules);
  } catch (err) {
    throw new UserError(`${path}: ${(err as Error).message}`);
  }
}
