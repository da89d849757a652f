/**
 * Face detectors with 68 landmarks, chosen by name (`--detector ssd-mobilenet`). Each entry of
 * {@link FACE_DETECTORS} has a zod options schema (validated like plugin options) and a factory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, routeWasmMatMul, tf, z } from '@dfdet/core';
import type { U8Image } from '@dfdet/models';
import type { Point } from './align.js';
import { faceApiModelDir, loadFaceApi } from './face-api.js';

export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DetectedFace {
  box: FaceBox;
  score: number;
  /** 68 iBUG landmarks (dlib order), in image pixels. */
  landmarks: Point[];
}

export interface FaceDetector {
  readonly name: string;
  /** The tfjs backend detection runs on. */
  readonly backend: string;
  /** Every face found, best score first; an empty list when there is none. */
  detect(img: U8Image): Promise<DetectedFace[]>;
  dispose(): void;
}

export interface FaceDetectorEntry<S extends z.ZodObject = z.ZodObject> {
  description: string;
  options: S;
  create(options: z.output<S>): Promise<FaceDetector>;
}

/** Backends face-api's kernels are known to run on. */
const DETECTOR_BACKENDS = ['auto', 'active', 'wasm', 'cpu', 'tensorflow'] as const;

export const ssdMobilenetOptions = z
  .object({
    min_confidence: z.number().gt(0).lt(1).default(0.5).describe('detection score threshold'),
    max_results: z.number().int().positive().default(100).describe('at most this many faces per image'),
    backend: z
      .enum(DETECTOR_BACKENDS)
      .default('auto')
      .describe('tfjs backend for detection: auto = the active one when wasm or tensorflow, else wasm (cpu is ~20× slower); active = whatever is active'),
    model_dir: z
      .string()
      .optional()
      .describe("folder with face-api's ssd_mobilenetv1_model and face_landmark_68_model weights (default: the ones @vladmandic/face-api ships)"),
  })
  .strict();

/** Runs `fn` with `name` as the active tfjs backend, restoring the previous one after. */
async function onBackend<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const prev = tf.getBackend();
  if (prev === name) return fn();
  if (name === 'wasm') routeWasmMatMul();
  if (!(await tf.setBackend(name))) throw new UserError(`face detector: tfjs backend "${name}" failed to initialize`);
  try {
    return await fn();
  } finally {
    await tf.setBackend(prev);
  }
}

async function pickBackend(requested: (typeof DETECTOR_BACKENDS)[number]): Promise<string> {
  await tf.ready();
  const active = tf.getBackend();
  if (requested === 'active') return active;
  if (requested !== 'auto') return requested;
  if (active === 'wasm' || active === 'tensorflow') return active;
  return 'wasm';
}

async function createSsdMobilenet(opts: z.output<typeof ssdMobilenetOptions>): Promise<FaceDetector> {
  const dir = opts.model_dir ?? faceApiModelDir();
  for (const f of ['ssd_mobilenetv1_model-weights_manifest.json', 'face_landmark_68_model-weights_manifest.json']) {
    if (!existsSync(join(dir, f))) throw new UserError(`face detector ssd-mobilenet: ${join(dir, f)} not found`);
  }
  const fa = loadFaceApi(); // also registers the wasm backend (face-api's node-wasm build requires it)
  const backend = await pickBackend(opts.backend);
  await onBackend(backend, async () => {
    for (const net of [fa.nets.ssdMobilenetv1, fa.nets.faceLandmark68Net]) {
      if (net.isLoaded) net.dispose();
      await net.loadFromDisk(dir);
    }
  });
  const options = new fa.SsdMobilenetv1Options({ minConfidence: opts.min_confidence, maxResults: opts.max_results });
  return {
    name: 'ssd-mobilenet',
    backend,
    detect: (img) =>
      onBackend(backend, async () => {
        if ((img.channels ?? 3) !== 3) throw new Error(`face detector: expected an RGB image, got ${img.channels} channels`);
        const input = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
        try {
          const found = await fa.detectAllFaces(input, options).withFaceLandmarks();
          return found
            .map((r) => ({
              score: r.detection.score,
              box: { x: r.detection.box.x, y: r.detection.box.y, width: r.detection.box.width, height: r.detection.box.height },
              landmarks: r.landmarks.positions.map((p) => [p.x, p.y] as Point),
            }))
            .sort((a, b) => b.score - a.score);
        } finally {
          input.dispose();
        }
      }),
    dispose: () => {
      for (const net of [fa.nets.ssdMobilenetv1, fa.nets.faceLandmark68Net]) if (net.isLoaded) net.dispose();
    },
  };
}

export const FACE_DETECTORS: Record<string, FaceDetectorEntry> = {
  'ssd-mobilenet': {
    description: "face-api's SSD MobileNetV1 face detector + 68-point landmark net (weights shipped in @vladmandic/face-api), on tfjs",
    options: ssdMobilenetOptions,
    create: (o) => createSsdMobilenet(o as z.output<typeof ssdMobilenetOptions>),
  },
};

/** Validates the options against the detector's schema (errors name the option) and builds it. */
export async function createFaceDetector(name: string, options: Record<string, unknown> = {}): Promise<FaceDetector> {
  const entry = FACE_DETECTORS[name];
  if (!entry) throw new UserError(`unknown face detector "${name}"; detectors: ${Object.keys(FACE_DETECTORS).join(', ')}`);
  const parsed = entry.options.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`face detector ${name}: ${issue.path.join('.') || 'options'}: ${issue.message}`);
  }
  return entry.create(parsed.data);
}
