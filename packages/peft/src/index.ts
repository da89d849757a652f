import { pluginModule } from '@dfdet/core';
import { bitfitPlugin, fullPlugin, linearProbePlugin, lnTuningPlugin, unfreezePlugin } from './methods.js';
import { loraPlugin } from './lora.js';

export * from './types.js';
export * from './options.js';
export * from './methods.js';
export * from './lora.js';
export * from './training.js';

export const peftPlugins = [lnTuningPlugin, loraPlugin, fullPlugin, bitfitPlugin, linearProbePlugin, unfreezePlugin];

/** Every plugin this package provides, bound by its YAML name. */
export const plugins = pluginModule(...peftPlugins);
