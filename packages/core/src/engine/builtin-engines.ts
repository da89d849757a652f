import { cpus } from 'node:os';
import * as tf from '../tf.js';
import { z } from 'zod';
import { definePlugin } from '../plugin/spec.js';
import type { EngineBackend, EngineInitOptions } from './engine.js';
import { routeWasmMatMul } from './wasm-matmul.js';

const cpuOnly = (device: string) => device === 'cpu';

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialize the ${name} backend`);
  await tf.ready();
}

export const cpuEngine = (): EngineBackend => ({
  name: 'cpu',
  priority: 0,
  supportsDevice: cpuOnly,
  available: async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    return { ok: true, detail: 'pure JavaScript, always available (slow: ~0.4 GFLOP/s)' };
  },
  init: async () => {
    await import('@tensorflow/tfjs-backend-cpu');
    await activate('cpu');
    // the cpu backend prints a "install tfjs-node" banner on first use; engine selection already says why
    (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  },
});

export const wasmEngine = (): EngineBackend => ({
  name: 'wasm',
  priority: 10,
  supportsDevice: cpuOnly,
  available: async () => {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      return { ok: true, detail: 'WebAssembly with SIMD, single thread in Node; matrix products routed to its fast path' };
    } catch (err) {
      return { ok: false, reason: `@tensorflow/tfjs-backend-wasm failed to load: ${(err as Error).message}` };
    }
  },
  init: async () => {
    await import('@tensorflow/tfjs-backend-wasm');
    // before the backend initializes, so the routed kernel's setup runs with the others
    routeWasmMatMul();
    await activate('wasm');
  },
});

/** tfjs-node(-gpu): libtensorflow. Optional: its install downloads libtensorflow, which fails offline. */
export const tensorflowEngine = (): EngineBackend => {
  let loaded: string | undefined;
  const load = async (device: string): Promise<string> => {
    if (loaded) return loaded;
    const errors: string[] = [];
    const candidates = device.startsWith('cuda') ? ['@tensorflow/tfjs-node-gpu'] : ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
    for (const pkg of candidates) {
      try {
        await import(/* @vite-ignore */ pkg);
        loaded = pkg;
        return pkg;
      } catch (err) {
        const code = (err as { code?: string }).code;
        errors.push(code === 'ERR_MODULE_NOT_FOUND' ? `${pkg} not installed` : `${pkg}: ${firstLine((err as Error).message)}`);
      }
    }
    throw new Error(errors.join('; '));
  };
  return {
    name: 'tensorflow',
    priority: 50,
    supportsDevice: (d) => d === 'cpu' || /^cuda:\d+$/.test(d),
    available: async () => {
      try {
        return { ok: true, detail: `${await load('cpu')} (libtensorflow)` };
      } catch (err) {
        return { ok: false, reason: `${(err as Error).message} (optional; pnpm add @tensorflow/tfjs-node-gpu where libtensorflow can be downloaded)` };
      }
    },
    init: async (opts: EngineInitOptions) => {
      if (opts.device.startsWith('cuda:')) process.env.CUDA_VISIBLE_DEVICES ??= opts.device.slice(5);
      await load(opts.device);
      await activate('tensorflow');
    },
  };
};

function firstLine(s: string): string {
  return s.split('\n')[0]!.slice(0, 200);
}

const noOptions = z.object({});

export const engineSpecs = [
  definePlugin({ kind: 'engine', name: 'cpu', description: 'tfjs pure-JS backend (reference, slow)', options: noOptions, create: cpuEngine }),
  definePlugin({
    kind: 'engine',
    name: 'wasm',
    description: 'tfjs WebAssembly backend, matrix products routed to its fast path (default without a native backend)',
    options: noOptions,
    create: wasmEngine,
  }),
  definePlugin({
    kind: 'engine',
    name: 'tensorflow',
    description: 'tfjs-node / tfjs-node-gpu (libtensorflow); optional, install it yourself',
    options: noOptions,
    create: tensorflowEngine,
  }),
];

export const defaultThreads = () => cpus().length;
