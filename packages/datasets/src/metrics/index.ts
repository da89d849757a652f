export * from './binary.js';
export * from './deepfake.js';
export * from './plugins.js';
