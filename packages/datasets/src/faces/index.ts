/**
 * The face pipeline: 68-landmark detection (face-api's SSD MobileNetV1 on the project's tfjs) and
 * DeepfakeBench-style alignment. Detectors are chosen by name (`--detector ssd-mobilenet`) from
 * {@link FACE_DETECTORS}; each has a zod options schema. None of the plugin kinds (backbone … engine) fits a
 * face detector, so they are not container plugins.
 */
import type { PluginSpec } from '@dfdet/core';

export * from './align.js';
export * from './detector.js';
export * from './pipeline.js';
export { faceApiModelDir, loadFaceApi } from './face-api.js';

/**
 * Container plugins of the face pipeline: none (no plugin kind fits; see {@link FACE_DETECTORS}). Exported so the
 * package module can list it next to the other plugin arrays; spreading it adds nothing.
 */
export const facePlugins: PluginSpec[] = [];
