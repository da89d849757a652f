export * from './tensor-data.js';
export * from './safetensors.js';
export * from './pickle.js';
export * from './torch-checkpoint.js';
export * from './key-mapping.js';
