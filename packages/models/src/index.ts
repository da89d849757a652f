import { packageModule } from '@dfdet/core';
import { clipVitBackbone } from './clip/backbone.js';
import { readWeights } from './clip/load-weights.js';
import { headPlugins } from './heads/heads.js';
import { readSafetensors, SafetensorsFile, writeSafetensors } from './io/safetensors.js';

export * from './io/index.js';
export * from './nn/module.js';
export * from './nn/layers.js';
export * from './nn/state.js';
export * from './clip/config.js';
export * from './clip/vision-model.js';
export * from './clip/backbone.js';
export * from './clip/load-weights.js';
export * from './heads/heads.js';
export * from './preprocess/index.js';
export * from './weights/index.js';

/** Every plugin this package provides, bound by its YAML name, plus the tensor-file service. */
export const plugins = packageModule({
  plugins: [clipVitBackbone, ...headPlugins],
  services: {
    tensorFiles: {
      read: (path, filter) => readSafetensors(path, filter),
      write: (path, tensors, metadata) => writeSafetensors(path, tensors, metadata),
      readWeights: (path, keyMapping) => readWeights(path, /\.safetensors$/i.test(path) ? 'safetensors' : 'torch', keyMapping),
      metadata: (path) => {
        const f = SafetensorsFile.open(path);
        try {
          return { ...f.metadata };
        } finally {
          f.close();
        }
      },
    },
  },
});
