import { packageModule } from '@dfdet/core';
import { metricPlugins } from './metrics/plugins.js';
import { frameAndVideoMetrics } from './metrics/deepfake.js';
import { createLoader } from './loader/loader.js';

export * from './metrics/index.js';
export * from './loader/loader.js';
export * from './loader/sample.js';

/** Every plugin this package provides, bound by its YAML name, plus the loader and evaluation services. */
export const plugins = packageModule({
  plugins: [...metricPlugins],
  services: {
    dataLoader: createLoader,
    evaluation: {
      frameAndVideoMetrics: (frames, opts) => {
        const m = frameAndVideoMetrics(frames, opts);
        return { frame: { ...m.frame }, video: { ...m.video } };
      },
    },
  },
});
