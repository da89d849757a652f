/**
 * Loads `@vladmandic/face-api` onto the project's own tfjs.
 *
 * face-api ships several builds. The `-nobundle` ESM build imports `@tensorflow/tfjs/dist/index.js`, tfjs's
 * browser ESM tree, which Node cannot load (extension-less relative imports). The CommonJS `node-wasm` build
 * requires plain `@tensorflow/tfjs` and `@tensorflow/tfjs-backend-wasm`, the same packages @dfdet/core uses;
 * we evaluate it with a `require` that resolves those two from @dfdet/core, so face-api runs on the very tfjs
 * instance (engine, backends, kernels) of the rest of the project, whatever the package manager's layout.
 * Its weights (SSD MobileNetV1, 68-point landmarks) ship in the package's `model/` folder.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';

const here = createRequire(import.meta.url);

/** The parts of face-api's API used here (its own typings pull in DOM types). */
export interface FaceApiPoint {
  x: number;
  y: number;
}
export interface FaceApiResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: FaceApiPoint[] };
}
export interface FaceApiNet {
  isLoaded: boolean;
  loadFromDisk(dir: string): Promise<void>;
  dispose(): void;
}
export interface FaceApi {
  version: string;
  nets: { ssdMobilenetv1: FaceApiNet; faceLandmark68Net: FaceApiNet };
  SsdMobilenetv1Options: new (o: { minConfidence?: number; maxResults?: number }) => unknown;
  detectAllFaces(input: unknown, options: unknown): { withFaceLandmarks(): Promise<FaceApiResult[]> };
  tf: { engine(): unknown };
}

/** The folder of face-api's bundled weights. */
export function faceApiModelDir(): string {
  return join(dirname(here.resolve('@vladmandic/face-api/package.json')), 'model');
}

let cached: FaceApi | undefined;

export function loadFaceApi(): FaceApi {
  if (cached) return cached;
  const file = here.resolve('@vladmandic/face-api/dist/face-api.node-wasm.js');
  // resolve tfjs from @dfdet/core, the package that owns the project's tfjs
  const coreRequire = createRequire(here.resolve('@dfdet/core'));
  const ownRequire = createRequire(file);
  const req = (id: string): unknown => (id.startsWith('@tensorflow/') ? coreRequire(id) : ownRequire(id));
  const mod = { exports: {} as Record<string, unknown> };
  // the CommonJS module wrapper, as Node's own loader applies it
  const source = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(file, 'utf8')}\n})`;
  const wrapped = runInThisContext(source, { filename: file }) as (
    exports: unknown,
    require: unknown,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  wrapped.call(mod.exports, mod.exports, req, mod, file, dirname(file));
  cached = mod.exports as unknown as FaceApi;
  return cached;
}
