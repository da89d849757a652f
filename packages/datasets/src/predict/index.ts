import { predictCommand } from './command.js';

export * from './predict.js';
export { predictCommand, type PredictArgs } from './command.js';
/** `prepare` is not top-level: the `data` command group mounts it (exported here too for convenience). */
export { dataPrepareCommand } from '../prepare/command.js';

/** The top-level `exp` commands of this part: `predict`. */
export const mediaCommands = [predictCommand];
