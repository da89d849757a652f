import { pluginModule } from '@dfdet/core';
import { ce } from './ce.js';
import { uniformity } from './uniformity.js';
import { alignment } from './alignment.js';
import { slerp } from './slerp.js';

export * from './ce.js';
export * from './uniformity.js';
export * from './alignment.js';
export * from './slerp.js';
export { l2Normalize, pairwiseSquaredDistances } from './util.js';

/** Every plugin this package provides, bound by its YAML name. */
export const plugins = pluginModule(ce, uniformity, alignment, slerp);
