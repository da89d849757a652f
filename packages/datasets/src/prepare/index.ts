export * from './prepare.js';
export * from './progress.js';
export { dataPrepareCommand, type PrepareArgs } from './command.js';
export { faceOptions, faceConfig, engineOptions, initEngine, type FaceArgs } from './cli-options.js';
