import { pluginModule } from '@dfdet/core';
import { metricPlugins } from './metrics/plugins.js';

export * from './metrics/index.js';

/** Every plugin this package provides, bound by its YAML name. */
export const plugins = pluginModule(...metricPlugins);
