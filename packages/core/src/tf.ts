/**
 * The one tfjs entry point of the project. tfjs-core alone registers neither gradients nor the
 * chained tensor methods (the @tensorflow/tfjs union package does that); every package imports
 * `tf` from here so both are always present and there is a single tfjs-core instance.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

export * from '@tensorflow/tfjs-core';
