import { packageModule } from '@dfdet/core';
import { metricPlugins } from './metrics/plugins.js';
import { frameAndVideoMetrics } from './metrics/deepfake.js';
import { createLoader } from './loader/loader.js';
import { evaluateDatasets } from './eval/evaluate.js';
import { evalCommand, metricsCommand } from './eval/commands.js';
import { datasetPlugins } from './adapters/index.js';
import { augmentationPlugins } from './augment/index.js';
import { dataCommands } from './cli/index.js';
import { mediaCommands } from './predict/index.js';

export * from './metrics/index.js';
export * from './adapters/index.js';
export * from './synth/index.js';
export * from './augment/index.js';
export * from './faces/index.js';
export * from './media/video.js';
export * from './media/ffmpeg.js';
export * from './predict/predict.js';
export * from './prepare/prepare.js';
export * from './loader/loader.js';
export * from './loader/sample.js';
export * from './eval/evaluate.js';
export * from './eval/report.js';
export * from './eval/predictions-csv.js';

/** Every plugin this package provides, bound by its YAML name, plus the loader and evaluation services. */
export const plugins = packageModule({
  plugins: [...datasetPlugins, ...augmentationPlugins, ...metricPlugins],
  commands: [...dataCommands, evalCommand, metricsCommand, ...mediaCommands],
  services: {
    dataLoader: createLoader,
    evaluateDatasets,
    evaluation: {
      frameAndVideoMetrics: (frames, opts) => {
        const m = frameAndVideoMetrics(frames, opts);
        return { frame: { ...m.frame }, video: { ...m.video } };
      },
    },
  },
});
