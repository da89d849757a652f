export * from './ffmpeg.js';
export * from './video.js';
export * from './files.js';
export * from './frames.js';
