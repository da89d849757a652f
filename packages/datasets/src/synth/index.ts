export * from './render.js';
export * from './generate.js';
