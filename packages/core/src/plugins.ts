import { pluginModule } from './plugin/spec.js';
import { consoleLogger } from './loggers/console.js';
import { jsonlLogger } from './loggers/jsonl.js';
import { wandbLogger } from './loggers/wandb.js';
import { localLauncher } from './sweep/local.js';
import { slurmLauncher } from './sweep/slurm.js';
import { engineSpecs } from './engine/builtin-engines.js';
import './engine/select.js';
import './training/sections.js';

/** Core's own plugins: loggers (and, with the engine, the embedded tfjs backends). */
export const plugins = pluginModule(consoleLogger, jsonlLogger, wandbLogger, localLauncher, slurmLauncher, ...engineSpecs);
