/** Command-line options shared by `exp data prepare` and `exp predict`. */
import type { Argv } from 'yargs';
import { KNOWN_ENGINES, buildRegistry, selectEngine, type PluginRegistry } from '@dfdet/core';
import { KEYPOINT_MODES } from '../faces/align.js';
import { FACE_DETECTORS } from '../faces/detector.js';
import type { FaceExtractorConfig } from '../faces/pipeline.js';

export interface FaceArgs {
  detector: string;
  'min-confidence': number;
  'detector-backend': string;
  'face-models'?: string;
  size: number;
  scale: number;
  keypoints: string;
  'all-faces'?: boolean;
}

export function faceOptions<T>(y: Argv<T>) {
  return y
    .option('detector', { type: 'string', default: 'ssd-mobilenet', choices: Object.keys(FACE_DETECTORS), describe: 'face detector with 68 landmarks', group: 'Faces:' })
    .option('min-confidence', { type: 'number', default: 0.5, describe: 'face detection score threshold', group: 'Faces:' })
    .option('detector-backend', {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'active', 'wasm', 'cpu', 'tensorflow'],
      describe: 'tfjs backend of the detector (auto: the engine when wasm or tensorflow, else wasm)',
      group: 'Faces:',
    })
    .option('face-models', { type: 'string', describe: "folder with face-api weights (default: those @vladmandic/face-api ships)", group: 'Faces:' })
    .option('size', { type: 'number', default: 256, describe: 'face crop side in pixels', group: 'Faces:' })
    .option('scale', { type: 'number', default: 1.3, describe: 'crop scale around the face (DeepfakeBench: 1.3)', group: 'Faces:' })
    .option('keypoints', {
      type: 'string',
      default: 'deepfakebench',
      choices: [...KEYPOINT_MODES],
      describe: "5 alignment points from the 68 landmarks: deepfakebench (dlib points 37/44/30/49/55, as DeepfakeBench) or centers (eye centers, nose, mouth corners)",
      group: 'Faces:',
    })
    .option('all-faces', { type: 'boolean', default: false, describe: 'every face of a frame, not only the largest', group: 'Faces:' });
}

export function faceConfig(a: FaceArgs): FaceExtractorConfig {
  return {
    detector: a.detector,
    detectorOptions: {
      min_confidence: a['min-confidence'],
      backend: a['detector-backend'],
      ...(a['face-models'] ? { model_dir: a['face-models'] } : {}),
    },
    align: { size: a.size, scale: a.scale, keypoints: a.keypoints as (typeof KEYPOINT_MODES)[number] },
    select: a['all-faces'] ? 'all' : 'largest',
  };
}

export function engineOptions<T>(y: Argv<T>) {
  return y
    .option('backend', { type: 'string', default: 'auto', choices: ['auto', ...KNOWN_ENGINES], describe: 'engine backend' })
    .option('device', { type: 'string', default: 'cpu', describe: 'cpu or cuda:N' });
}

/** The registry of built-in plugins with the engine selected, as `exp eval` does. */
export async function initEngine(backend: string, device: string, log: (s: string) => void): Promise<PluginRegistry> {
  const registry = await buildRegistry([]);
  const engine = await selectEngine(registry, { backend, device });
  log(`engine: ${engine.backend} on ${engine.device}`);
  return registry;
}
