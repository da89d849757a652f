import { pluginModule } from '@dfdet/core';

/** Every plugin this package provides, bound by its YAML name. */
export const plugins = pluginModule();
