/**
 * The one tfjs entry point of the project. tfjs-core alone registers neither gradients nor the
 * chained tensor methods; the @tensorflow/tfjs union package does (into tfjs's global registries,
 * shared with tfjs-core). Every package imports `tf` from here so both are always present.
 */
import '@tensorflow/tfjs';

export * from '@tensorflow/tfjs-core';
